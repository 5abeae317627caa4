"""DynamoDB ratings store: one table (``RECS_RATINGS_TABLE``), keys ``user_id`` (N, partition)
and ``item_id`` (N, sort), the table packages/infra creates. A rating is the item
(user, movie); a few reserved partitions hold the rest, so every read is a key lookup or a
query of one partition, never a scan (similarity's one-off index build aside):

  user_id = 0   item_id = <movie id>  title, year, genres, ratings_count, rating_sum
  user_id = -1  item_id = <user id>   age, gender, occupation, source, created_at, ratings_count
  user_id = -2  item_id = 0           ``value``: the largest user id handed out (atomic ADD)
  user_id = -2  item_id = 1           row counts of the loaded base dataset
  user_id = -3  item_id = <digest>    users one client created in one hour (``expires_at``)
  user_id = -4  item_id = <user id> * 2**31 + <movie id>   a not-interested mark: kind,
                timestamp (one user's marks are one key range of the partition)
  user_id >= 1  item_id = <movie id>  rating, timestamp, source

An API user's profile also holds its token's ``token_salt`` and ``token_digest`` (never the
token) and, per kind of write, the UTC day and count of that day's writes (``ratings_day``,
``ratings_day_count``). A rating is one transaction: the conditional put (no duplicate), the
counter updates on its user (within the caps) and movie succeed or fail together; a
not-interested mark likewise with its user's ``feedback_*`` counters. Marks carry no
``source``, so retraining (which reads ``source = 'api'`` ratings) leaves them out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.limits import CapReached, WriteCap, check_write, day_window, hour_window
from chalicelib.ownership import TokenRecord
from chalicelib.store import (
    CatalogEntry,
    DuplicateRating,
    FeedbackRow,
    Movie,
    NewUser,
    RatingRow,
    SeedData,
    StoreUnavailable,
    UserProfile,
)

MOVIES = 0
PROFILES = -1
BOOKKEEPING = -2
CLIENT_QUOTA = -3
FEEDBACK = -4
FEEDBACK_STRIDE = 2**31  # item ids are below it (the API's item_id maximum)
COUNTER = {"user_id": BOOKKEEPING, "item_id": 0}
SEED_RECORD = {"user_id": BOOKKEEPING, "item_id": 1}


def table_definition(name: str) -> dict[str, Any]:
    """``create_table`` arguments of the table this store expects (packages/infra's table)."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": "user_id", "KeyType": "HASH"},
            {"AttributeName": "item_id", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "user_id", "AttributeType": "N"},
            {"AttributeName": "item_id", "AttributeType": "N"},
        ],
    }


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _profile(item: dict[str, Any]) -> UserProfile:
    token = None
    if item.get("token_salt") and item.get("token_digest"):
        token = TokenRecord(str(item["token_salt"]), str(item["token_digest"]))
    return UserProfile(
        user_id=int(item["item_id"]),
        age=_int(item.get("age")),
        gender=item.get("gender"),
        occupation=item.get("occupation"),
        source=str(item["source"]),
        created_at=int(item["created_at"]),
        ratings_count=int(item.get("ratings_count", 0)),
        token=token,
    )


def _movie(item: dict[str, Any]) -> Movie:
    return Movie(int(item["item_id"]), str(item["title"]), _int(item.get("year")),
                 [str(g) for g in item.get("genres", [])])  # fmt: skip


def _feedback_key(user_id: int, item_id: int) -> dict[str, int]:
    return {"user_id": FEEDBACK, "item_id": user_id * FEEDBACK_STRIDE + item_id}


def _feedback_row(item: dict[str, Any]) -> FeedbackRow:
    user_id, item_id = divmod(int(item["item_id"]), FEEDBACK_STRIDE)
    return FeedbackRow(user_id, item_id, str(item["kind"]), int(item["timestamp"]))


def _stats(item: dict[str, Any]) -> tuple[int, float | None]:
    count = int(item.get("ratings_count", 0))
    total = float(item.get("rating_sum", 0))
    return count, (total / count if count else None)


class DynamoStore:
    backend = "dynamodb"

    def __init__(self, table: Any) -> None:
        self.table = table
        # The resource's client converts between Python values and DynamoDB's JSON.
        self.client = table.meta.client

    # ----------------------------------------------------------------------------- plumbing

    def _call(self, method: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return dict(method(**kwargs))
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailable(f"DynamoDB table {self.table.name}: {exc}") from None

    def _partition(self, user_id: int) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("user_id").eq(user_id)}
        while True:
            page = self._call(self.table.query, **kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _get(self, user_id: int, item_id: int) -> dict[str, Any] | None:
        key = {"user_id": user_id, "item_id": item_id}
        item: dict[str, Any] | None = self._call(self.table.get_item, Key=key).get("Item")
        return item

    # ----------------------------------------------------------------------------- reading

    def check(self) -> None:
        if not self._get(**SEED_RECORD):
            raise StoreUnavailable(
                f"DynamoDB table {self.table.name} is not seeded; run "
                "python -m chalicelib.seed --dynamodb"
            )

    def is_seeded(self, movies: int, users: int, ratings: int) -> bool:
        item = self._get(**SEED_RECORD)
        if not item:
            return False
        counts = (int(item["movies"]), int(item["users"]), int(item["ratings"]))
        return counts == (movies, users, ratings)

    def list_users(
        self, query: str, limit: int, offset: int, include: int | None = None
    ) -> tuple[list[UserProfile], int]:
        users = [
            profile
            for profile in map(_profile, self._partition(PROFILES))
            if profile.source == "base" or profile.user_id == include
        ]
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
        item = self._get(PROFILES, user_id)
        return _profile(item) if item else None

    def user_ratings(self, user_id: int) -> list[RatingRow]:
        rows = [
            RatingRow(
                user_id,
                int(i["item_id"]),
                float(i["rating"]),
                int(i["timestamp"]),
                str(i["source"]),
            )  # fmt: skip
            for i in self._partition(user_id)
        ]
        rows.sort(key=lambda r: (r.timestamp, r.item_id))
        return rows

    def get_movies(self, item_ids: Iterable[int]) -> dict[int, Movie]:
        ids = sorted(set(item_ids))
        found: dict[int, Movie] = {}
        for start in range(0, len(ids), 100):  # BatchGetItem reads at most 100 keys
            keys = [{"user_id": MOVIES, "item_id": i} for i in ids[start : start + 100]]
            request: dict[str, Any] = {self.table.name: {"Keys": keys}}
            while request:
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

    def movie_stats(self, item_id: int) -> tuple[int, float | None]:
        item = self._get(MOVIES, item_id)
        return _stats(item) if item else (0, None)

    def search_movies(
        self, query: str, limit: int
    ) -> tuple[list[tuple[Movie, int, float | None]], int]:
        items = list(self._partition(MOVIES))
        if query:
            needle = query.lower()
            items = [i for i in items if needle in str(i["title"]).lower()]
        items.sort(key=lambda i: (-int(i.get("ratings_count", 0)), int(i["item_id"])))
        return [(_movie(i), *_stats(i)) for i in items[:limit]], len(items)

    def popular(self, limit: int) -> list[tuple[int, int]]:
        counts = [(int(i["item_id"]), int(i.get("ratings_count", 0))) for i in self._partition(0)]
        counts = [c for c in counts if c[1] > 0]
        counts.sort(key=lambda c: (-c[1], c[0]))
        return counts[:limit]

    def catalog(self) -> list[CatalogEntry]:
        items = list(self._partition(MOVIES))
        items.sort(key=lambda i: (-int(i.get("ratings_count", 0)), int(i["item_id"])))
        return [(_movie(i), *_stats(i)) for i in items]

    def feedback(self, user_id: int) -> list[FeedbackRow]:
        first = user_id * FEEDBACK_STRIDE
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("user_id").eq(FEEDBACK)
            & Key("item_id").between(first, first + FEEDBACK_STRIDE - 1)
        }
        rows: list[FeedbackRow] = []
        while True:
            page = self._call(self.table.query, **kwargs)
            rows.extend(_feedback_row(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        rows.sort(key=lambda r: (-r.timestamp, -r.item_id))
        return rows

    def iter_ratings(self) -> Iterator[tuple[int, int]]:
        kwargs: dict[str, Any] = {
            "FilterExpression": Attr("user_id").gt(0),
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

    def create_user(self, new: NewUser) -> UserProfile:
        self._take_client_slot(new.client, new.now, new.users_per_hour)
        counter = self._call(
            self.table.update_item,
            Key=COUNTER,
            UpdateExpression="ADD #v :one",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )
        user_id = int(counter["Attributes"]["value"])
        profile = new.profile(user_id, new.token_for(user_id))
        self._call(
            self.table.put_item,
            Item=self._profile_item(profile),
            ConditionExpression="attribute_not_exists(user_id)",
        )
        return profile

    def _take_client_slot(self, client: str, now: int, cap: int) -> None:
        """Count one user for ``client`` this hour, unless it already has ``cap``."""
        window, retry_after = hour_window(now)
        slot = int(hashlib.sha256(f"{client}:{window}".encode()).hexdigest()[:15], 16)
        try:
            self.table.update_item(
                Key={"user_id": CLIENT_QUOTA, "item_id": slot},
                UpdateExpression="ADD #n :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(#n) OR #n < :cap",
                ExpressionAttributeNames={"#n": "count"},
                ExpressionAttributeValues={":one": 1, ":cap": cap,
                                           ":expires": window + 2 * 3600},
            )  # fmt: skip
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise CapReached(
                    f"this client created {cap} users this hour, the most allowed ({cap})",
                    retry_after,
                ) from None
            raise StoreUnavailable(f"DynamoDB table {self.table.name}: {exc}") from None
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB table {self.table.name}: {exc}") from None

    def delete_user(self, user_id: int) -> int:
        name = self.table.name
        movie_key = {"user_id": MOVIES}
        profile = self._get(PROFILES, user_id)
        if not profile or profile.get("source") != "api":
            return 0
        removed = 0
        # One transaction per rating: the rating and its movie's counters go together, so a
        # retry after a failure picks up where this one stopped.
        for item in list(self._partition(user_id)):
            item_id = int(item["item_id"])
            try:
                self.client.transact_write_items(
                    TransactItems=[
                        {"Delete": {"TableName": name,
                                    "Key": {"user_id": user_id, "item_id": item_id},
                                    "ConditionExpression": "attribute_exists(item_id)"}},
                        {"Update": {"TableName": name, "Key": {**movie_key, "item_id": item_id},
                                    "UpdateExpression": "ADD ratings_count :minus, rating_sum :r",
                                    "ConditionExpression": "attribute_exists(item_id)",
                                    "ExpressionAttributeValues": {
                                        ":minus": -1, ":r": -Decimal(str(item["rating"]))}}},
                    ]
                )  # fmt: skip
            except ClientError as exc:
                reasons = exc.response.get("CancellationReasons") or []
                if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                    continue  # deleted meanwhile by a concurrent request
                raise StoreUnavailable(f"DynamoDB table {name}: {exc}") from None
            except BotoCoreError as exc:
                raise StoreUnavailable(f"DynamoDB table {name}: {exc}") from None
            removed += 1
        for mark in self.feedback(user_id):
            self._call(self.table.delete_item, Key=_feedback_key(user_id, mark.item_id))
        self._call(self.table.delete_item, Key={"user_id": PROFILES, "item_id": user_id})
        return removed

    @staticmethod
    def _profile_item(profile: UserProfile) -> dict[str, Any]:
        item: dict[str, Any] = {
            "user_id": PROFILES,
            "item_id": profile.user_id,
            "source": profile.source,
            "created_at": profile.created_at,
            "ratings_count": profile.ratings_count,
        }
        for name in ("age", "gender", "occupation"):
            value = getattr(profile, name)
            if value is not None:
                item[name] = value
        if profile.token is not None:
            item["token_salt"] = profile.token.salt
            item["token_digest"] = profile.token.digest
        return item

    def add_rating(
        self, user_id: int, item_id: int, rating: float, now: int, cap: WriteCap
    ) -> RatingRow:
        value = Decimal(str(rating))
        item = {"user_id": user_id, "item_id": item_id, "rating": value, "timestamp": now,
                "source": "api"}  # fmt: skip
        movie_counters = {
            "Update": {"TableName": self.table.name,
                       "Key": {"user_id": MOVIES, "item_id": item_id},
                       "UpdateExpression": "ADD ratings_count :one, rating_sum :r",
                       "ConditionExpression": "attribute_exists(item_id)",
                       "ExpressionAttributeValues": {":one": 1, ":r": value}}
        }  # fmt: skip
        if not self._capped_put(item, user_id, now, cap, [movie_counters]):
            raise DuplicateRating(f"user {user_id} already rated movie {item_id}")
        return RatingRow(user_id, item_id, rating, now, "api")

    def add_feedback(
        self, user_id: int, item_id: int, kind: str, now: int, cap: WriteCap
    ) -> tuple[FeedbackRow, bool]:
        key = _feedback_key(user_id, item_id)
        existing = self._get(key["user_id"], key["item_id"])
        if existing:
            return _feedback_row(existing), False
        item = {**key, "kind": kind, "timestamp": now}
        if not self._capped_put(item, user_id, now, cap, []):
            stored = self._get(key["user_id"], key["item_id"])  # marked meanwhile
            if stored:
                return _feedback_row(stored), False
        return FeedbackRow(user_id, item_id, kind, now), True

    def delete_feedback(self, user_id: int, item_id: int) -> bool:
        name = self.table.name
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {"Delete": {"TableName": name, "Key": _feedback_key(user_id, item_id),
                                "ConditionExpression": "attribute_exists(item_id)"}},
                    {"Update": {"TableName": name,
                                "Key": {"user_id": PROFILES, "item_id": user_id},
                                "UpdateExpression": "ADD feedback_count :minus",
                                "ConditionExpression": "attribute_exists(item_id)",
                                "ExpressionAttributeValues": {":minus": -1}}},
                ]
            )  # fmt: skip
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise StoreUnavailable(f"DynamoDB table {name}: {exc}") from None
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB table {name}: {exc}") from None
        return True

    def _capped_put(
        self, item: dict[str, Any], user_id: int, now: int, cap: WriteCap, more: list[Any]
    ) -> bool:
        """Put ``item`` unless its key exists (False then), counting one ``cap.kind`` write on
        the user within the caps, and ``more`` transaction items, all or nothing."""
        name = self.table.name
        day, _ = day_window(now)
        kind = cap.kind
        names = {"#total": f"{kind}_count", "#day": f"{kind}_day", "#today": f"{kind}_day_count"}
        values: dict[str, Any] = {":one": 1, ":day": day, ":total_cap": cap.total,
                                  ":day_cap": cap.per_day}  # fmt: skip
        # Same day: count on; a new day: start again at one. Both keep within the caps.
        same_day = (
            "SET #today = #today + :one ADD #total :one",
            "attribute_exists(item_id) AND #day = :day AND #today < :day_cap "
            "AND (attribute_not_exists(#total) OR #total < :total_cap)",
        )
        new_day = (
            "SET #day = :day, #today = :one ADD #total :one",
            "attribute_exists(item_id) AND (attribute_not_exists(#day) OR #day <> :day) "
            "AND (attribute_not_exists(#total) OR #total < :total_cap)",
        )
        for update, condition in (same_day, new_day):
            try:
                self.client.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": name, "Item": item,
                                 "ConditionExpression": "attribute_not_exists(item_id)"}},
                        {"Update": {"TableName": name,
                                    "Key": {"user_id": PROFILES, "item_id": user_id},
                                    "UpdateExpression": update,
                                    "ConditionExpression": condition,
                                    "ExpressionAttributeNames": names,
                                    "ExpressionAttributeValues": values}},
                        *more,
                    ]
                )  # fmt: skip
                return True
            except ClientError as exc:
                codes = [r.get("Code") for r in exc.response.get("CancellationReasons") or []]
                if codes and codes[0] == "ConditionalCheckFailed":
                    return False
                if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                    continue  # the other branch, or a cap: decided below
                raise StoreUnavailable(f"DynamoDB table {name}: {exc}") from None
            except BotoCoreError as exc:
                raise StoreUnavailable(f"DynamoDB table {name}: {exc}") from None
        profile = self._get(PROFILES, user_id) or {}
        today = int(profile.get(f"{kind}_day_count", 0)) if profile.get(f"{kind}_day") == day else 0
        check_write(cap, total=int(profile.get(f"{kind}_count", 0)), today=today, now=now)
        raise StoreUnavailable(f"DynamoDB table {name}: user {user_id} changed during the write")

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
        with self.table.batch_writer(overwrite_by_pkeys=["user_id", "item_id"]) as batch:
            for movie in data.movies:
                count, total = movie_counts.get(movie.item_id, (0, Decimal(0)))
                item: dict[str, Any] = {
                    "user_id": MOVIES,
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
                        "user_id": user_id,
                        "item_id": item_id,
                        "rating": Decimal(str(rating)),
                        "timestamp": timestamp,
                        "source": "base",
                    }  # fmt: skip
                )
        largest = max((u[0] for u in data.users), default=0)
        # The counter never goes backwards, so ids handed out before a re-seed stay unique.
        self._call(
            self.table.update_item,
            Key=COUNTER,
            UpdateExpression="SET #v = if_not_exists(#v, :largest)",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":largest": largest},
        )
        self._call(
            self.table.put_item,
            Item={
                **SEED_RECORD,
                "movies": len(data.movies),
                "users": len(data.users),
                "ratings": len(data.ratings),
            },  # fmt: skip
        )
        return True
