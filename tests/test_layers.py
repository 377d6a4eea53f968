"""AddCoords and CoordConv2d: coordinate values, dtype/device/cache behaviour, equality to the
concatenation reference, gradients."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rl_coordconv import AddCoords, CoordConv2d
from rl_coordconv.layers import coordinate_grid


def test_square_coordinates_by_value() -> None:
    out = AddCoords()(torch.zeros(1, 1, 3, 3))
    assert out.shape == (1, 3, 3, 3)
    x, y = out[0, 1], out[0, 2]
    expected_x = torch.tensor([[-1.0, 0.0, 1.0]] * 3)
    assert torch.equal(x, expected_x)
    assert torch.equal(y, expected_x.T)
    assert torch.equal(out[0, 0], torch.zeros(3, 3))  # the input channel is untouched


def test_non_square_coordinates_by_value() -> None:
    # 2 rows x 5 columns: x along W in steps of 0.5, y along H is -1 then +1, both inside [-1, 1].
    out = AddCoords(with_r=True)(torch.full((2, 3, 2, 5), 7.0))
    assert out.shape == (2, 6, 2, 5)
    assert torch.equal(out[:, :3], torch.full((2, 3, 2, 5), 7.0))
    x, y, r = out[1, 3], out[1, 4], out[1, 5]
    assert torch.equal(x, torch.tensor([[-1.0, -0.5, 0.0, 0.5, 1.0]] * 2))
    assert torch.equal(y, torch.tensor([[-1.0] * 5, [1.0] * 5]))
    expected_r = torch.tensor([[math.sqrt(v * v + 1.0) for v in (-1.0, -0.5, 0.0, 0.5, 1.0)]] * 2)
    assert torch.allclose(r, expected_r)


def test_tall_image_and_length_one_axes() -> None:
    out = AddCoords()(torch.zeros(1, 1, 4, 1))  # one column: x is 0 everywhere
    assert torch.equal(out[0, 1], torch.zeros(4, 1))
    assert torch.allclose(out[0, 2, :, 0], torch.tensor([-1.0, -1 / 3, 1 / 3, 1.0]))
    single = AddCoords(with_r=True)(torch.zeros(1, 1, 1, 1))
    assert torch.equal(single[0, 1:], torch.zeros(3, 1, 1))


def test_radius_is_centred() -> None:
    out = AddCoords(with_r=True)(torch.zeros(1, 1, 5, 5))
    r = out[0, 3]
    assert r[2, 2].item() == 0.0  # the centre pixel
    assert r.max().item() == pytest.approx(math.sqrt(2.0))
    assert torch.allclose(r, r.flip(0)) and torch.allclose(r, r.flip(1))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_coordinates_follow_input_dtype(dtype: torch.dtype) -> None:
    out = AddCoords(with_r=True)(torch.zeros(2, 1, 3, 4, dtype=dtype))
    assert out.dtype == dtype
    assert out[0, 1, 0, 0].item() == -1.0 and out[0, 1, 0, -1].item() == 1.0
    assert out[0, 2, 0, 0].item() == -1.0 and out[0, 2, -1, 0].item() == 1.0
    reference = coordinate_grid(3, 4, with_r=True, dtype=torch.float64).to(dtype)
    assert torch.equal(out[:1, 1:], reference)


def test_grid_cache_is_reused_and_keyed_by_size_and_dtype() -> None:
    layer = AddCoords()
    first = layer.grid(6, 7, torch.device("cpu"), torch.float32)
    assert layer.grid(6, 7, torch.device("cpu"), torch.float32) is first
    other_size = layer.grid(7, 6, torch.device("cpu"), torch.float32)
    other_dtype = layer.grid(6, 7, torch.device("cpu"), torch.float64)
    assert other_size.shape == (1, 2, 7, 6) and other_dtype.dtype == torch.float64
    # after other sizes, the first size still gives its own values
    out = layer(torch.zeros(1, 1, 6, 7))
    assert torch.equal(out[:, 1:], first)
    assert "_grids" not in dict(layer.state_dict())
    for _ in range(AddCoords.cache_size + 3):
        layer(torch.zeros(1, 1, 10 + _, 10))
    assert len(layer._grids) == AddCoords.cache_size


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_coordinates_follow_input_device() -> None:  # pragma: no cover - CPU machines skip
    layer = AddCoords()
    cpu = layer(torch.zeros(1, 1, 4, 4))
    gpu = layer(torch.zeros(1, 1, 4, 4, device="cuda"))
    assert gpu.device.type == "cuda" and torch.equal(gpu.cpu(), cpu)


def test_meta_device_grid_does_not_leak() -> None:
    layer = AddCoords()
    meta = layer(torch.zeros(1, 1, 4, 4, device="meta"))
    assert meta.device.type == "meta"
    assert layer(torch.zeros(1, 1, 4, 4)).device.type == "cpu"


def test_addcoords_rejects_non_4d() -> None:
    with pytest.raises(ValueError, match=r"4-d \(N, C, H, W\)"):
        AddCoords()(torch.zeros(3, 4, 4))


CASES = [
    # (in, out, kernel, stride, padding, dilation, H, W)
    (4, 32, 8, 4, 0, 1, 84, 84),
    (3, 5, 3, 1, 1, 1, 9, 13),
    (2, 4, 3, 2, 2, 1, 11, 7),
    (1, 3, (3, 5), (2, 1), (1, 2), 1, 10, 12),
    (2, 3, 3, 1, 2, 2, 9, 9),
]


@pytest.mark.parametrize("coord_init", ["zeros", "joint"])
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("with_r", [False, True])
@pytest.mark.parametrize("case", CASES)
def test_coordconv_equals_concatenation_reference(case: tuple, padding_mode: str, with_r: bool, coord_init) -> None:
    cin, cout, k, s, p, d, h, w = case
    torch.manual_seed(0)
    layer = CoordConv2d(
        cin, cout, k, stride=s, padding=p, dilation=d, padding_mode=padding_mode, with_r=with_r, coord_init=coord_init
    )
    layer = layer.double()
    with torch.no_grad():
        for param in layer.parameters():  # weight, bias (and the split layout's coordinate weights)
            param.normal_()
    x = torch.randn(3, cin, h, w, dtype=torch.float64)
    reference = layer.as_conv2d()
    assert type(reference) is nn.Conv2d
    assert reference.in_channels == cin + (3 if with_r else 2)
    assert torch.allclose(layer(x), reference(AddCoords(with_r)(x)), atol=1e-10)


def test_same_padding_and_no_bias() -> None:
    torch.manual_seed(1)
    layer = CoordConv2d(2, 3, 3, padding="same", bias=False)
    assert layer.bias is None
    x = torch.randn(2, 2, 6, 9)
    out = layer(x)
    assert out.shape == (2, 3, 6, 9)
    assert torch.allclose(out, layer.as_conv2d()(AddCoords()(x)), atol=1e-5)


@pytest.mark.parametrize("coord_init", ["joint", "zeros"])
def test_gradients_equal_reference_and_reach_coordinate_weights(coord_init: str) -> None:
    torch.manual_seed(2)
    layer = CoordConv2d(3, 4, 3, stride=2, padding=1, with_r=True, coord_init=coord_init).double()
    reference = layer.as_conv2d()
    x = torch.randn(5, 3, 10, 8, dtype=torch.float64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    target = torch.randn(5, 4, 5, 4, dtype=torch.float64)
    (layer(x) * target).sum().backward()
    (reference(AddCoords(True)(x_ref)) * target).sum().backward()
    grads = layer.weight.grad if coord_init == "joint" else torch.cat([layer.weight.grad, layer.weight_coords.grad], 1)
    assert torch.allclose(grads, reference.weight.grad, atol=1e-10)
    assert torch.allclose(layer.bias.grad, reference.bias.grad, atol=1e-10)
    assert torch.allclose(x.grad, x_ref.grad, atol=1e-10)
    assert grads[:, 3:].abs().sum() > 0  # the coordinate weights learn (from zero, in the default layout)


def test_coordconv_has_no_unused_parameters() -> None:
    layer = CoordConv2d(4, 32, 8, stride=4, coord_init="joint")
    names = [name for name, _ in layer.named_parameters()]
    assert names == ["weight", "bias"]
    assert layer.weight.shape == (32, 6, 8, 8)
    assert layer.in_channels == 4 and layer.coord_channels == 2
    assert torch.equal(layer.coord_weight, layer.weight[:, 4:])
    torch.manual_seed(3)
    (layer(torch.randn(2, 4, 84, 84)).sum()).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())


def test_coordconv_is_a_conv2d_for_sb3_initialisation() -> None:
    layer = CoordConv2d(4, 32, 8, stride=4, coord_init="joint")
    assert isinstance(layer, nn.Conv2d)
    nn.init.orthogonal_(layer.weight, gain=math.sqrt(2))
    flat = layer.weight.reshape(32, -1)
    assert torch.allclose(flat @ flat.T, 2 * torch.eye(32), atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_coordconv_other_dtypes(dtype: torch.dtype) -> None:
    torch.manual_seed(4)
    layer = CoordConv2d(2, 3, 3, padding=1).to(dtype)
    x = torch.randn(2, 2, 7, 5).to(dtype)
    out = layer(x)
    assert out.dtype == dtype
    ref = layer.as_conv2d()(AddCoords()(x))
    tol = 1e-10 if dtype == torch.float64 else 5e-2
    assert torch.allclose(out.float(), ref.float(), atol=tol)


def test_coordconv_rejects_groups_and_bad_input() -> None:
    with pytest.raises(ValueError, match="groups=1 only"):
        CoordConv2d(4, 8, 3, groups=2)
    with pytest.raises(ValueError, match="in_channels >= 1"):
        CoordConv2d(0, 8, 3)
    layer = CoordConv2d(4, 8, 3)
    with pytest.raises(ValueError, match=r"expects \(N, 4, H, W\) input"):
        layer(torch.zeros(1, 3, 9, 9))
    with pytest.raises(ValueError, match="padding_mode"):
        CoordConv2d(4, 8, 3, padding_mode="mirror")


# --- the initialisation rule (coord_init) and the constant control --------------------------------


def test_default_layout_draws_the_plain_convolution_and_starts_as_it() -> None:
    torch.manual_seed(5)
    plain = nn.Conv2d(4, 32, 8, stride=4)
    torch.manual_seed(5)
    layer = CoordConv2d(4, 32, 8, stride=4)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias", "weight_coords"]
    assert torch.equal(layer.weight, plain.weight) and torch.equal(layer.bias, plain.bias)
    assert layer.weight_coords.shape == (32, 2, 8, 8) and not layer.weight_coords.any()
    assert torch.equal(torch.randn(3), (torch.manual_seed(5), nn.Conv2d(4, 32, 8, stride=4), torch.randn(3))[2])
    x = torch.rand(2, 4, 84, 84)
    assert torch.allclose(layer(x), plain(x), atol=1e-6)
    # re-initialised like any Conv2d (as SB3 does), the draw is the plain layer's draw
    torch.manual_seed(6)
    nn.init.orthogonal_(plain.weight, gain=math.sqrt(2))
    torch.manual_seed(6)
    nn.init.orthogonal_(layer.weight, gain=math.sqrt(2))
    assert torch.equal(layer.weight, plain.weight)


def test_state_dicts_of_either_layout_load_into_the_other() -> None:
    torch.manual_seed(7)
    joint = CoordConv2d(4, 8, 3, coord_init="joint", with_r=True)
    split = CoordConv2d(4, 8, 3, with_r=True)
    split.load_state_dict(joint.state_dict())
    x = torch.rand(2, 4, 12, 12)
    assert torch.allclose(split(x), joint(x), atol=1e-6)
    assert torch.equal(split.coord_weight, joint.coord_weight)
    again = CoordConv2d(4, 8, 3, coord_init="joint", with_r=True)
    again.load_state_dict(split.state_dict())
    assert torch.equal(again.weight, joint.weight)


def test_unknown_coord_init_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="coord_init='orthogonal' is not understood; use one of zeros, joint"):
        CoordConv2d(4, 8, 3, coord_init="orthogonal")


def test_constant_control_has_the_coordinates_energy_and_no_position() -> None:
    coords = AddCoords()(torch.zeros(1, 1, 6, 10))[0, 1:]
    const = AddCoords(constant=True)(torch.zeros(1, 1, 6, 10))[0, 1:]
    assert const.shape == coords.shape == (2, 6, 10)
    for channel in range(2):
        assert torch.all(const[channel] == const[channel, 0, 0])  # one value per channel
        rms = coords[channel].double().pow(2).mean().sqrt()
        assert float(const[channel, 0, 0]) == pytest.approx(float(rms), rel=1e-6)
    # x over 10 columns: mean of squares of linspace(-1, 1, n) is (n + 1) / (3 (n - 1))
    assert float(const[0, 0, 0]) == pytest.approx(math.sqrt(11 / 27), rel=1e-6)
    layer = CoordConv2d(1, 3, 3, constant=True)
    assert layer.coord_weight.shape == (3, 2, 3, 3)
