"""Reconstruction file names keep the originals' names, folders included, without clashes."""

from dnastore.data.render import png_names


def test_names_keep_their_folders_and_become_png():
    assert png_names(["x.webp", "sub/y.gif", "z"], 3) == ["x.png", "sub/y.png", "z.png"]


def test_names_that_would_meet_keep_their_extensions():
    assert png_names(["a.png", "a.jpg", "sub/b.webp"], 3) == ["a.png", "a.jpg.png", "sub/b.webp.png"]


def test_unsafe_or_clashing_names_fall_back_to_numbers():
    for names in (["../x.png"], ["/etc/x.png"], ["grid.png"], ["images.zarr/x.png"], [".hidden.png"]):
        assert png_names(names, 1) == ["image-00000.png"]
    assert png_names(None, 2) == ["image-00000.png", "image-00001.png"]
    assert png_names(["a.png"], 2) == ["image-00000.png", "image-00001.png"]
