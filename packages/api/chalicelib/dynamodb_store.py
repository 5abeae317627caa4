"""DynamoDB ratings store: one table (``RECS_RATINGS_TABLE``) with one global secondary index.

Items (``pk``, ``sk``):
  ``USER#<id>``  / ``PROFILE``        age, gender, occupation, source, created_at, ratings_count
  ``USER#<id>``  / ``RATING#<item>``  rating, timestamp, source (one query reads a history)
  ``MOVIE#<id>`` / ``MOVIE``          title, year, genres, ratings_count, rating_sum
  ``COUNTER``    / ``USER_ID``        the largest user id handed out (atomic ADD)
  ``META``       / ``SEED``           row counts of the loaded base dataset
Index ``gsi1`` (``gsi1pk`` = ``USER`` | ``MOVIE``, ``gsi1sk`` = zero-padded id) lists users and
movies without a scan. A rating is one transaction: the conditional put (no duplicate) and the
counter updates on its user and movie succeed or fail together.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.store import (
    DuplicateRating,
    Movie,
    RatingRow,
    SeedData,
    StoreUnavailable,
    UserProfile,
)

INDEX = "gsi1"


def table_definition(name: str) -> dict[str, Any]:
    """``create_table`` arguments of the table this store expects (infra mirrors them)."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("pk", "sk", "gsi1pk", "gsi1sk")
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": INDEX,
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


def _pad(number: int) -> str:
    return f"{number:010d}"


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _profile(item: dict[str, Any]) -> UserProfile:
    return UserProfile(
        user_id=int(item["user_id"]),
        age=_int(item.get("age")),
        gender=item.get("gender"),
        occupation=item.get("occupation"),
        source=str(item["source"]),
        created_at=int(item["created_at"]),
        ratings_count=int(item.get("ratings_count", 0)),
    )


def _movie(item: dict[str, Any]) -> Movie:
    return Movie(int(item["item_id"]), str(item["title"]), _int(item.get("year")),
                 [str(g) for g in item.get("genres", [])])  # fmt: skip


def _stats(item: dict[str, Any]) -> tuple[int, float | None]:
    count = int(item.get("ratings_count", 0))
    total = float(item.get("rating_sum", 0))
    return count, (total / count if count else None)


class DynamoStore:
    backend = "dynamodb"

    def __init__(self, table: Any) -> None:
        self.table = table
        self.client = table.meta.client

    # ----------------------------------------------------------------------------- plumbing

    def _call(self, method: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return dict(method(**kwargs))
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailable(f"DynamoDB table {self.table.name}: {exc}") from None

    def _query_all(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self._call(self.table.query, **kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _listing(self, kind: str) -> list[dict[str, Any]]:
        return list(self._query_all(IndexName=INDEX, KeyConditionExpression=Key("gsi1pk").eq(kind)))

    # ----------------------------------------------------------------------------- reading

    def check(self) -> None:
        item = self._call(self.table.get_item, Key={"pk": "META", "sk": "SEED"}).get("Item")
        if not item:
            raise StoreUnavailable(
                f"DynamoDB table {self.table.name} is not seeded; run "
                "python -m chalicelib.seed --dynamodb"
            )

    def is_seeded(self, movies: int, users: int, ratings: int) -> bool:
        item = self._call(self.table.get_item, Key={"pk": "META", "sk": "SEED"}).get("Item")
        if not item:
            return False
        return (
            int(item["movies"]),
            int(item["users"]),
            int(item["ratings"]),
        ) == (movies, users, ratings)

    def list_users(self, query: str, limit: int, offset: int) -> tuple[list[UserProfile], int]:
        users = [_profile(item) for item in self._listing("USER")]
        if query:
            needle = query.lower()
            users = [
                u
                for u in users
                if str(u.user_id).startswith(needle) or needle in (u.occupation or "").lower()
            ]
        users.sort(key=lambda u: u.user_id)
        return users[offset : offset + limit], len(users)

    def get_user(self, user_id: int) -> UserProfile | None:
        key = {"pk": f"USER#{user_id}", "sk": "PROFILE"}
        item = self._call(self.table.get_item, Key=key).get("Item")
        return _profile(item) if item else None

    def user_ratings(self, user_id: int) -> list[RatingRow]:
        rows = [
            RatingRow(
                int(i["user_id"]),
                int(i["item_id"]),
                float(i["rating"]),
                int(i["timestamp"]),
                str(i["source"]),
            )  # fmt: skip
            for i in self._query_all(
                KeyConditionExpression=Key("pk").eq(f"USER#{user_id}")
                & Key("sk").begins_with("RATING#")
            )
        ]
        rows.sort(key=lambda r: (r.timestamp, r.item_id))
        return rows

    def get_movies(self, item_ids: Iterable[int]) -> dict[int, Movie]:
        ids = sorted(set(item_ids))
        found: dict[int, Movie] = {}
        for start in range(0, len(ids), 100):  # BatchGetItem reads at most 100 keys
            keys = [{"pk": f"MOVIE#{i}", "sk": "MOVIE"} for i in ids[start : start + 100]]
            request: dict[str, Any] = {self.table.name: {"Keys": keys}}
            while request:
                # The resource's client converts between Python values and DynamoDB's JSON.
                page = self._call(self.client.batch_get_item, RequestItems=request)
                for item in page.get("Responses", {}).get(self.table.name, []):
                    movie = _movie(item)
                    found[movie.item_id] = movie
                request = {
                    table: spec
                    for table, spec in (page.get("UnprocessedKeys") or {}).items()
                    if spec.get("Keys")
                }
        return found

    def _movie_item(self, item_id: int) -> dict[str, Any] | None:
        key = {"pk": f"MOVIE#{item_id}", "sk": "MOVIE"}
        item: dict[str, Any] | None = self._call(self.table.get_item, Key=key).get("Item")
        return item

    def movie_stats(self, item_id: int) -> tuple[int, float | None]:
        item = self._movie_item(item_id)
        return _stats(item) if item else (0, None)

    def search_movies(
        self, query: str, limit: int
    ) -> tuple[list[tuple[Movie, int, float | None]], int]:
        items = self._listing("MOVIE")
        if query:
            needle = query.lower()
            items = [i for i in items if needle in str(i["title"]).lower()]
        items.sort(key=lambda i: (-int(i.get("ratings_count", 0)), int(i["item_id"])))
        return [(_movie(i), *_stats(i)) for i in items[:limit]], len(items)

    def popular(self, limit: int) -> list[tuple[int, int]]:
        counts = [
            (int(i["item_id"]), int(i.get("ratings_count", 0))) for i in self._listing("MOVIE")
        ]
        counts = [c for c in counts if c[1] > 0]
        counts.sort(key=lambda c: (-c[1], c[0]))
        return counts[:limit]

    def iter_ratings(self) -> Iterator[tuple[int, int]]:
        kwargs: dict[str, Any] = {
            "FilterExpression": Attr("sk").begins_with("RATING#"),
            "ProjectionExpression": "user_id, item_id",
        }
        while True:
            page = self._call(self.table.scan, **kwargs)
            for item in page.get("Items", []):
                yield int(item["user_id"]), int(item["item_id"])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # ----------------------------------------------------------------------------- writing

    def create_user(
        self, age: int | None, gender: str | None, occupation: str | None, now: int
    ) -> UserProfile:
        counter = self._call(
            self.table.update_item,
            Key={"pk": "COUNTER", "sk": "USER_ID"},
            UpdateExpression="ADD #v :one",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )
        user_id = int(counter["Attributes"]["value"])
        profile = UserProfile(user_id, age, gender, occupation, "api", now, 0)
        self._call(
            self.table.put_item,
            Item=self._profile_item(profile),
            ConditionExpression="attribute_not_exists(pk)",
        )
        return profile

    @staticmethod
    def _profile_item(profile: UserProfile) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": f"USER#{profile.user_id}",
            "sk": "PROFILE",
            "gsi1pk": "USER",
            "gsi1sk": _pad(profile.user_id),
            "user_id": profile.user_id,
            "source": profile.source,
            "created_at": profile.created_at,
            "ratings_count": profile.ratings_count,
        }
        for name in ("age", "gender", "occupation"):
            value = getattr(profile, name)
            if value is not None:
                item[name] = value
        return item

    def add_rating(self, user_id: int, item_id: int, rating: float, now: int) -> RatingRow:
        value = Decimal(str(rating))
        put = {
            "pk": f"USER#{user_id}",
            "sk": f"RATING#{_pad(item_id)}",
            "user_id": user_id,
            "item_id": item_id,
            "rating": value,
            "timestamp": now,
            "source": "api",
        }
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table.name,
                            "Item": put,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table.name,
                            "Key": {"pk": f"USER#{user_id}", "sk": "PROFILE"},
                            "UpdateExpression": "ADD ratings_count :one",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {":one": 1},
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table.name,
                            "Key": {"pk": f"MOVIE#{item_id}", "sk": "MOVIE"},
                            "UpdateExpression": "ADD ratings_count :one, rating_sum :r",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {":one": 1, ":r": value},
                        }
                    },
                ]
            )
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                raise DuplicateRating(f"user {user_id} already rated movie {item_id}") from None
            raise StoreUnavailable(f"DynamoDB table {self.table.name}: {exc}") from None
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB table {self.table.name}: {exc}") from None
        return RatingRow(user_id, item_id, rating, now, "api")

    def seed(self, data: SeedData) -> bool:
        if self.is_seeded(len(data.movies), len(data.users), len(data.ratings)):
            return False
        user_counts: dict[int, int] = {}
        movie_counts: dict[int, tuple[int, Decimal]] = {}
        first_seen: dict[int, int] = {}
        for user_id, item_id, rating, timestamp in data.ratings:
            user_counts[user_id] = user_counts.get(user_id, 0) + 1
            count, total = movie_counts.get(item_id, (0, Decimal(0)))
            movie_counts[item_id] = (count + 1, total + Decimal(str(rating)))
            first_seen[user_id] = min(timestamp, first_seen.get(user_id, timestamp))
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for movie in data.movies:
                count, total = movie_counts.get(movie.item_id, (0, Decimal(0)))
                item: dict[str, Any] = {
                    "pk": f"MOVIE#{movie.item_id}",
                    "sk": "MOVIE",
                    "gsi1pk": "MOVIE",
                    "gsi1sk": _pad(movie.item_id),
                    "item_id": movie.item_id,
                    "title": movie.title,
                    "genres": list(movie.genres),
                    "ratings_count": count,
                    "rating_sum": total,
                }
                if movie.year is not None:
                    item["year"] = movie.year
                batch.put_item(Item=item)
            for user_id, age, gender, occupation in data.users:
                profile = UserProfile(
                    user_id, age, gender, occupation, "base",
                    first_seen.get(user_id, 0), user_counts.get(user_id, 0),
                )  # fmt: skip
                batch.put_item(Item=self._profile_item(profile))
            for user_id, item_id, rating, timestamp in data.ratings:
                batch.put_item(
                    Item={
                        "pk": f"USER#{user_id}",
                        "sk": f"RATING#{_pad(item_id)}",
                        "user_id": user_id,
                        "item_id": item_id,
                        "rating": Decimal(str(rating)),
                        "timestamp": timestamp,
                        "source": "base",
                    }
                )
        largest = max((u[0] for u in data.users), default=0)
        # The counter never goes backwards, so ids handed out before a re-seed stay unique.
        self._call(
            self.table.update_item,
            Key={"pk": "COUNTER", "sk": "USER_ID"},
            UpdateExpression="SET #v = if_not_exists(#v, :largest)",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":largest": largest},
        )
        self._call(
            self.table.put_item,
            Item={
                "pk": "META",
                "sk": "SEED",
                "movies": len(data.movies),
                "users": len(data.users),
                "ratings": len(data.ratings),
            },  # fmt: skip
        )
        return True
