"""The processed data: the files the processing step writes and training reads.

Layout under the output directory::

    train/ratings.csv  validation/ratings.csv  test/ratings.csv
    train/shards/part-NNNNN.parquet   (train rows by user then time, whole users per shard)
    meta/items.json  meta/users.json  meta/item_ids.txt  meta/user_ids.txt  meta/data_checksum

Everything is columnar (numpy arrays, pyarrow reading and writing): no per-row Python, so
memory is a small multiple of the ratings' 24 bytes each and time is seconds per million.
The shards let training stream its examples with ``tf.data`` instead of holding them.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recs_ml.data.datasets import DataError, Dataset, Item, Ratings, User
from recs_ml.data.split import Split, order_by_user_time, take, without

SPLITS = ("train", "validation", "test")
RATINGS_FILE = "ratings.csv"
RATINGS_HEADER = ["user_id", "item_id", "rating", "timestamp"]


def ratings_table(ratings: Ratings) -> Any:
    import pyarrow as pa

    return pa.table(
        {
            "user_id": pa.array(ratings.user_id, pa.int64()),
            "item_id": pa.array(ratings.item_id, pa.int64()),
            "rating": pa.array(ratings.rating, pa.float32()),
            "timestamp": pa.array(ratings.timestamp, pa.int64()),
        }
    )


def write_ratings(path: Path, ratings: Ratings) -> None:
    """``user_id,item_id,rating,timestamp`` CSV, written columnar in blocks."""
    import pyarrow.csv as pacsv

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write((",".join(RATINGS_HEADER) + "\n").encode())
        if len(ratings):
            pacsv.write_csv(
                ratings_table(ratings), handle, pacsv.WriteOptions(include_header=False)
            )


def read_ratings(path: Path) -> Ratings:
    """Read a split file written by :func:`write_ratings` — or a directory of ``part-*.csv``
    files in that format, as the Spark engine writes it; bad rows are a :class:`DataError`."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    if path.is_dir():
        parts = sorted(path.glob("part-*.csv"))
        if not parts:
            raise DataError(path, None, "no part-*.csv files in this split directory")
        ratings = Ratings.from_rows([])
        for part in parts:
            if part.stat().st_size:  # Spark writes an empty part for an empty split
                ratings = ratings.concat(read_ratings(part))
        return ratings
    if not path.is_file():
        raise DataError(path, None, "split file not found; run the process step first")
    with open(path, encoding="utf-8", errors="replace") as handle:
        header = handle.readline().strip().split(",")
    if header == RATINGS_HEADER:
        types = {"user_id": pa.int64(), "item_id": pa.int64(), "timestamp": pa.int64()}
        try:
            table = pacsv.read_csv(
                path,
                convert_options=pacsv.ConvertOptions(
                    column_types={**types, "rating": pa.float32()}
                ),
            )
            if not any(table.column(name).null_count for name in RATINGS_HEADER):
                return Ratings(
                    user_id=table.column("user_id").to_numpy(),
                    item_id=table.column("item_id").to_numpy(),
                    rating=table.column("rating").to_numpy(),
                    timestamp=table.column("timestamp").to_numpy(),
                )
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass  # the row reader below names the bad line
    return _read_ratings_rows(path)


def _read_ratings_rows(path: Path) -> Ratings:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != RATINGS_HEADER:
            raise DataError(path, 1, f"expected header {','.join(RATINGS_HEADER)}, got {header}")
        rows = []
        for values in reader:
            if len(values) != 4:
                raise DataError(path, reader.line_num, f"expected 4 fields, found {len(values)}")
            try:
                rows.append((int(values[0]), int(values[1]), float(values[2]), int(values[3])))
            except ValueError:
                raise DataError(path, reader.line_num, f"malformed row {values}") from None
    return Ratings.from_rows(rows)


@dataclass
class ProcessedData:
    """What the training and evaluation steps read back from the process step's output."""

    train: Ratings
    validation: Ratings
    test: Ratings
    items: dict[int, Item]
    users: dict[int, User]
    data_checksum: str
    directory: Path | None = None

    @property
    def train_shards(self) -> list[Path]:
        """Parquet shards of train (by user then time), when the process step wrote them."""
        return shard_paths(self.directory) if self.directory is not None else []

    @property
    def fit(self) -> Ratings:
        """Train minus validation: what models are fitted on while choosing hyperparameters."""
        return without(self.train, self.validation)


SHARDS_DIR = "shards"
SHARD_ROWS = 1_000_000


def write_shards(directory: Path, ratings: Ratings, shard_rows: int = SHARD_ROWS) -> list[Path]:
    """Parquet shards of ``ratings`` ordered by user then time, each holding whole users."""
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("part-*.parquet"):
        stale.unlink()
    ordered = take(ratings, order_by_user_time(ratings))
    users = ordered.user_id
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]]) if len(users) else np.array([])
    paths: list[Path] = []
    begin = 0
    while begin < len(ordered):
        # Cut at the first user boundary at or after begin + shard_rows.
        cut = np.searchsorted(starts, begin + shard_rows)
        end = int(starts[cut]) if cut < starts.shape[0] else len(ordered)
        path = directory / f"part-{len(paths):05d}.parquet"
        pq.write_table(ratings_table(take(ordered, np.arange(begin, end))), path)
        paths.append(path)
        begin = end
    return paths


def shard_paths(directory: Path) -> list[Path]:
    """The train shards of a process step output, in order (empty for older outputs)."""
    return sorted((Path(directory) / "train" / SHARDS_DIR).glob("part-*.parquet"))


def write_processed(output: Path, dataset: Dataset, split: Split, checksum: str) -> None:
    from recs_ml.progress import progress

    output = Path(output)
    total = sum(len(getattr(split, name)) for name in SPLITS) + len(split.train)
    with progress("write splits", total=total, unit="rows") as bar:
        for name in SPLITS:
            write_ratings(output / name / RATINGS_FILE, getattr(split, name))
            bar.advance(len(getattr(split, name)))
        write_shards(output / "train" / SHARDS_DIR, split.train)
        bar.advance(len(split.train))
    all_items = np.unique(
        np.concatenate(
            [split.train.item_id, split.test.item_id, np.asarray(list(dataset.items), np.int64)]
        )
    )
    all_users = np.unique(np.concatenate([split.train.user_id, split.test.user_id]))
    write_meta(
        output / "meta",
        all_items.tolist(),
        all_users.tolist(),
        dataset.items,
        dataset.users,
        checksum,
    )


def write_meta(
    meta: Path,
    item_ids: Iterable[int],
    user_ids: Iterable[int],
    items: dict[int, Item],
    users: dict[int, User],
    checksum: str,
) -> None:
    """``meta/``: the vocabularies (ascending ids, one a line), item and user metadata and the
    training data checksum — the same files whichever engine split the ratings."""
    meta.mkdir(parents=True, exist_ok=True)
    for name, ids in (("item_ids.txt", item_ids), ("user_ids.txt", user_ids)):
        with open(meta / name, "w", encoding="utf-8") as handle:
            for value in ids:
                handle.write(f"{value}\n")
    (meta / "items.json").write_text(
        json.dumps([asdict(item) for _, item in sorted(items.items())], indent=0)
    )
    (meta / "users.json").write_text(
        json.dumps([asdict(user) for _, user in sorted(users.items())], indent=0)
    )
    (meta / "data_checksum").write_text(checksum + "\n")


def read_processed(directory: Path) -> ProcessedData:
    directory = Path(directory)
    if not (directory / "meta").is_dir():
        raise DataError(directory, None, "no meta/ directory: not a process step output")
    meta = directory / "meta"
    try:
        items = {
            int(raw["item_id"]): Item(**raw)
            for raw in json.loads((meta / "items.json").read_text(encoding="utf-8"))
        }
        users = {
            int(raw["user_id"]): User(**raw)
            for raw in json.loads((meta / "users.json").read_text(encoding="utf-8"))
        }
        checksum = (meta / "data_checksum").read_text(encoding="utf-8").strip()
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise DataError(meta, None, f"unreadable metadata: {exc}") from None
    return ProcessedData(
        train=read_ratings(directory / "train" / RATINGS_FILE),
        validation=read_ratings(directory / "validation" / RATINGS_FILE),
        test=read_ratings(directory / "test" / RATINGS_FILE),
        items=items,
        users=users,
        data_checksum=checksum,
        directory=directory,
    )


def read_item_ids(directory: Path) -> list[int]:
    """The catalog (``meta/item_ids.txt``): every item id the dataset knows."""
    path = Path(directory) / "meta" / "item_ids.txt"
    if not path.is_file():
        raise DataError(path, None, "item vocabulary not found; run the process step first")
    lines = path.read_text(encoding="utf-8").split()
    try:
        return [int(line) for line in lines]
    except ValueError:
        raise DataError(path, None, "item ids must be integers") from None


def read_user_ids(directory: Path) -> list[int]:
    """The user vocabulary (``meta/user_ids.txt``): every user with a train or test rating."""
    path = Path(directory) / "meta" / "user_ids.txt"
    if not path.is_file():
        raise DataError(path, None, "user vocabulary not found; run the process step first")
    try:
        return [int(line) for line in path.read_text(encoding="utf-8").split()]
    except ValueError:
        raise DataError(path, None, "user ids must be integers") from None


def _rows_digest(ratings: Ratings) -> str:
    """sha256 of the rows in (user, timestamp, item) order, columns in their stored types."""
    ordered = take(ratings, order_by_user_time(ratings))
    digest = hashlib.sha256()
    for column, kind in (
        (ordered.user_id, np.int64),
        (ordered.item_id, np.int64),
        (ordered.rating, np.float32),
        (ordered.timestamp, np.int64),
    ):
        digest.update(np.ascontiguousarray(column, dtype=kind).tobytes())
    return digest.hexdigest()


def data_digest(directory: Path) -> dict[str, Any]:
    """What identifies a process step's output whichever engine wrote it: a digest of each
    split's rows sorted by (user, timestamp, item), of the item and user vocabularies, and
    one over all of them; the train shards must hold exactly the train rows."""
    from recs_ml.data.streaming import read_shard

    data = read_processed(directory)
    parts: dict[str, str] = {name: _rows_digest(getattr(data, name)) for name in SPLITS}
    for name, ids in (
        ("item_ids", read_item_ids(directory)),
        ("user_ids", read_user_ids(directory)),
    ):
        parts[name] = hashlib.sha256(np.asarray(ids, dtype=np.int64).tobytes()).hexdigest()
    shards = shard_paths(directory)
    if shards:
        shard_rows = read_shard(shards[0])
        for path in shards[1:]:
            shard_rows = shard_rows.concat(read_shard(path))
        if _rows_digest(shard_rows) != parts["train"]:
            raise DataError(directory / "train" / SHARDS_DIR, None, "shards differ from train rows")
    overall = hashlib.sha256()
    for name in (*SPLITS, "item_ids", "user_ids"):
        overall.update(f"{name}={parts[name]}\n".encode())
    return {
        "digest": overall.hexdigest(),
        "parts": parts,
        "rows": {name: len(getattr(data, name)) for name in SPLITS},
        "items": len(read_item_ids(directory)),
        "users": len(read_user_ids(directory)),
        "shards": len(shards),
    }
