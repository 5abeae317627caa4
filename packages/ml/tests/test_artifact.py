import tarfile

import pytest

from recs_ml.serving.artifact import ArtifactError, Manifest, pack, unpack, verify, write_manifest


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


def test_a_corrupted_deflate_stream_is_rejected_not_raised_as_zlib_error(tmp_path):
    """gzip reports a broken back-reference as zlib.error, which is not an OSError."""
    import gzip
    import io
    import random
    import tarfile
    import zlib

    rng = random.Random(0)
    words = [bytes(rng.randrange(97, 123) for _ in range(rng.randrange(3, 9))) for _ in range(300)]
    data = b" ".join(rng.choice(words) for _ in range(20000))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        info = tarfile.TarInfo("tfrs/1/saved_model.pb")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    compressed = gzip.compress(raw.getvalue(), mtime=0)

    def read_all(blob: bytes) -> None:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as archive:
            for member in archive.getmembers():
                handle = archive.extractfile(member)
                if handle is not None:
                    handle.read()

    def flipped(offset: int) -> bytes:
        blob = bytearray(compressed)
        blob[offset] ^= 0xFF
        return bytes(blob)

    def raises_zlib_error(offset: int) -> bool:
        try:
            read_all(flipped(offset))
        except zlib.error:
            return True
        except Exception:
            return False
        return False

    offset = next(
        o for o in range(len(compressed) // 10, len(compressed), 53) if raises_zlib_error(o)
    )
    tarball = tmp_path / "model.tar.gz"
    tarball.write_bytes(flipped(offset))
    with pytest.raises(ArtifactError, match="not a readable model.tar.gz"):
        unpack(tarball, tmp_path / "out")
