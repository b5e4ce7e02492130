"""MakeComposite and RasteriseLabels as users run them: results, and bad input told plainly."""

from __future__ import annotations

import json
import runpy

import pytest
import rasterio
import shapely

from seeice.config.runner import run_script
from seeice.datasets.sentinel2_product import write_product

from product_helpers import SIZE, box_text, scene, write_vector
from repo_paths import REPO

MAKE = REPO / "Preparation" / "MakeComposite.py"
LABELS = REPO / "Preparation" / "RasteriseLabels.py"


def _run(script, capsys, *args) -> tuple[int, str]:
    main = runpy.run_path(str(script), run_name="script")["main"]
    with pytest.raises(SystemExit) as done:
        run_script(script, main, [str(a) for a in args])
    return done.value.code, capsys.readouterr().err


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    return write_product(scene(), tmp_path_factory.mktemp("products"), size=SIZE, cloud=(20, 20, 8))


def test_make_composite_then_rasterise_labels(tmp_path, capsys, product):
    s = scene()
    out = tmp_path / "composites"
    code, err = _run(MAKE, capsys, "--product", product, "--out", out, "--aoi",
                     box_text(s.transform.c, s.transform.f, (0, 40), (0, 40)))
    assert code == 0, err
    assert "masked" in err and "DN + offset (B04 -1000" in err
    image = out / "S2B_20220815_T24WWU.tif"
    with rasterio.open(image) as src:
        assert src.count == 4 and src.shape == (40, 40)
        x0, y0 = src.transform.c, src.transform.f
    record = json.loads((out / "MakeComposite.run.json").read_text())
    [entry] = record["composites"]
    assert entry["composite"] == image.name and entry["offsets_applied"]["B08"] == -1000.0
    assert 0 < entry["masked_share"] < 0.5 and record["config"]["AOI"]
    polygons = write_vector(tmp_path / "classes.gpkg",
                            [shapely.box(x0, y0 - 400, x0 + 200, y0)], "EPSG:32624",
                            {"surface": ["open water"]})
    code, err = _run(LABELS, capsys, "--like", image, "--classes", polygons, "--field", "surface")
    assert code == 0, err
    with rasterio.open(out / "SCLS_S2B_20220815_T24WWU.tif") as src:
        labels = src.read(1)
    assert (labels[:, :20] == 1).all() and (labels[:, 20:] == 0).all()


@pytest.mark.parametrize("case", ["not_a_product", "missing_band", "corrupt_zip", "aoi_outside"])
def test_bad_products_exit_2_with_the_fix_and_no_output(tmp_path, capsys, product, case):
    s = scene()
    aoi = box_text(s.transform.c, s.transform.f, (0, 20), (0, 20))
    if case == "not_a_product":
        given = tmp_path / "photo.jpg"
        given.write_bytes(b"\xff\xd8\xff")
        expect = "not a Sentinel-2 product"
    elif case == "missing_band":
        import shutil
        given = tmp_path / product.name
        shutil.copytree(product, given)
        next(given.glob("GRANULE/*/IMG_DATA/R10m/*_B03_10m.jp2")).unlink()
        expect = "lacks band file(s) B03"
    elif case == "corrupt_zip":
        given = tmp_path / "S2B_MSIL2A_broken.zip"
        given.write_bytes(b"PK\x03\x04 truncated download")
        expect = "Download the product again"
    else:
        given = product
        aoi = box_text(s.transform.c, s.transform.f, (5000, 5010), (0, 10))
        expect = "EPSG:4326"
    out = tmp_path / "out"
    code, err = _run(MAKE, capsys, "--product", given, "--out", out, "--aoi", aoi)
    assert code == 2
    assert "ProductError" in err and expect in " ".join(err.split())
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_rasterise_bad_vectors_exit_2(tmp_path, capsys, product):
    s = scene()
    out = tmp_path / "c"
    assert _run(MAKE, capsys, "--product", product, "--out", out)[0] == 0
    image = out / "S2B_20220815_T24WWU.tif"
    polygons = write_vector(tmp_path / "p.gpkg",
                            [shapely.box(s.transform.c, s.transform.f - 100, s.transform.c + 100,
                                         s.transform.f)], "EPSG:32624", {"kind": ["icebergs"]})
    code, err = _run(LABELS, capsys, "--like", image, "--classes", polygons)
    assert code == 2 and "fields are: kind" in err and "Traceback" not in err
    code, err = _run(LABELS, capsys, "--like", image, "--classes", polygons, "--field", "kind")
    assert code == 2 and "'icebergs'" in err and "iceberg water" in err
    assert not (out / "SCLS_S2B_20220815_T24WWU.tif").exists()
