import tarfile

import pytest

from recs_ml.artifact import ArtifactError, Manifest, pack, unpack, verify, write_manifest


def make_artifact(root):
    for name in ("tfrs", "ease"):
        (root / name / "1" / "variables").mkdir(parents=True)
        (root / name / "1" / "saved_model.pb").write_bytes(name.encode() * 10)
        (root / name / "1" / "variables" / "v.data").write_bytes(b"\x00\x01")
    manifest = Manifest(
        model_name="recs-movielens",
        default_model="tfrs",
        models=["tfrs", "ease"],
        data_checksum="abc",
    )
    return write_manifest(root, manifest)


def test_manifest_lists_every_file_and_round_trips_through_tarball(tmp_path):
    manifest = make_artifact(tmp_path / "a")
    assert sorted(manifest.files) == [
        "ease/1/saved_model.pb",
        "ease/1/variables/v.data",
        "tfrs/1/saved_model.pb",
        "tfrs/1/variables/v.data",
    ]
    tarball = pack(tmp_path / "a", tmp_path / "model.tar.gz")
    with tarfile.open(tarball) as archive:
        assert "manifest.json" in archive.getnames()
    restored = unpack(tarball, tmp_path / "b")
    assert verify(restored).files == manifest.files


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: (r / "tfrs/1/saved_model.pb").write_bytes(b"tampered"), "checksum mismatch"),
        (lambda r: (r / "ease/1/variables/v.data").unlink(), "missing"),
        (lambda r: (r / "tfrs/1/extra.bin").write_bytes(b"x"), "unexpected"),
        (lambda r: (r / "manifest.json").write_text("{not json"), "not valid JSON"),
        (lambda r: (r / "manifest.json").unlink(), "no manifest.json"),
    ],
)
def test_artifact_that_differs_from_its_manifest_is_rejected(tmp_path, mutate, message):
    make_artifact(tmp_path)
    mutate(tmp_path)
    with pytest.raises(ArtifactError, match=message):
        verify(tmp_path)


def test_truncated_tarball_is_rejected(tmp_path):
    make_artifact(tmp_path / "a")
    tarball = pack(tmp_path / "a", tmp_path / "model.tar.gz")
    tarball.write_bytes(tarball.read_bytes()[:40])
    with pytest.raises(ArtifactError, match="not a readable model.tar.gz"):
        unpack(tarball, tmp_path / "b")


def test_manifest_must_name_existing_models(tmp_path):
    (tmp_path / "tfrs").mkdir()
    with pytest.raises(ArtifactError, match="missing"):
        write_manifest(tmp_path, Manifest("m", "tfrs", ["tfrs", "ease"], "abc"))
