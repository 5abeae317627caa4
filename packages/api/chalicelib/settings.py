"""One typed settings object for the API, read from the environment (docs/contracts.md, "API").

A frozen dataclass rather than pydantic-settings keeps the Lambda bundle free of compiled
dependencies.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from chalicelib.limits import Caps, WriteCap


class SettingsError(ValueError):
    """An environment variable with a value the API cannot use."""


def _default_home() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "packages" / "api").is_dir() and (parent / "pyproject.toml").is_file():
            return parent / ".recs"
    return Path.cwd() / ".recs"


@dataclass(frozen=True)
class Settings:
    home: Path
    store: str  # "sqlite" | "dynamodb"
    store_path: Path
    ratings_table: str | None
    endpoint_url: str
    endpoint_name: str | None
    endpoint_timeout: float
    default_model: str
    web_origin: str
    registry_path: Path
    model_package_group: str
    region: str
    max_body_bytes: int
    cache_seconds: float
    max_ratings_per_user: int = 1000
    max_ratings_per_user_per_day: int = 200
    max_feedback_per_user: int = 1000
    max_feedback_per_user_per_day: int = 200
    max_users_per_client_per_hour: int = 20
    # Behind a proxy (the page's /api on Amplify), the header that carries the client's
    # address; its first entry is the client. None: the connection's source address.
    client_ip_header: str | None = None

    @property
    def caps(self) -> Caps:
        return Caps(
            ratings=WriteCap(
                "ratings", self.max_ratings_per_user, self.max_ratings_per_user_per_day
            ),
            feedback=WriteCap(
                "feedback", self.max_feedback_per_user, self.max_feedback_per_user_per_day
            ),
            users_per_client_per_hour=self.max_users_per_client_per_hour,
        )

    @property
    def endpoint_backend(self) -> str:
        """SageMaker when an endpoint name is configured, else the local server's URL."""
        return "sagemaker" if self.endpoint_name else "local"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def text(name: str, default: str) -> str:
            return env.get(name, "").strip() or default

        def number(name: str, default: float, low: float, high: float) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise SettingsError(f"{name}={raw!r} is not a number") from None
            if not low <= value <= high:
                raise SettingsError(f"{name}={raw!r} must be between {low} and {high}")
            return value

        home = Path(text("RECS_HOME", str(_default_home()))).expanduser()
        store = text("RECS_STORE", "sqlite").lower()
        if store not in ("sqlite", "dynamodb"):
            raise SettingsError(f"RECS_STORE={store!r}: use sqlite or dynamodb")
        table = env.get("RECS_RATINGS_TABLE", "").strip() or None
        if store == "dynamodb" and not table:
            raise SettingsError("RECS_STORE=dynamodb needs RECS_RATINGS_TABLE (the table name)")
        origin = text("RECS_WEB_ORIGIN", "http://127.0.0.1:4173").rstrip("/")
        if not origin.startswith(("http://", "https://")):
            raise SettingsError(f"RECS_WEB_ORIGIN={origin!r} must be an http(s) origin")
        return cls(
            home=home,
            store=store,
            store_path=Path(text("RECS_STORE_PATH", str(home / "store.db"))).expanduser(),
            ratings_table=table,
            endpoint_url=text("RECS_ENDPOINT_URL", "http://127.0.0.1:8080").rstrip("/"),
            endpoint_name=env.get("RECS_ENDPOINT_NAME", "").strip() or None,
            endpoint_timeout=number("RECS_ENDPOINT_TIMEOUT", 2.0, 0.05, 60.0),
            default_model=text("RECS_DEFAULT_MODEL", "tfrs"),
            web_origin=origin,
            registry_path=Path(text("RECS_REGISTRY_PATH", str(home / "registry.db"))),
            model_package_group=text("RECS_MODEL_PACKAGE_GROUP", "recs-movielens"),
            region=text("AWS_DEFAULT_REGION", text("AWS_REGION", "us-east-1")),
            max_body_bytes=int(number("RECS_MAX_BODY_BYTES", 16384, 64, 10**7)),
            cache_seconds=number("RECS_CACHE_SECONDS", 300.0, 0.0, 86400.0),
            max_ratings_per_user=int(number("RECS_MAX_RATINGS_PER_USER", 1000, 1, 10**6)),
            max_ratings_per_user_per_day=int(
                number("RECS_MAX_RATINGS_PER_USER_PER_DAY", 200, 1, 10**6)
            ),
            max_feedback_per_user=int(number("RECS_MAX_FEEDBACK_PER_USER", 1000, 1, 10**6)),
            max_feedback_per_user_per_day=int(
                number("RECS_MAX_FEEDBACK_PER_USER_PER_DAY", 200, 1, 10**6)
            ),
            max_users_per_client_per_hour=int(
                number("RECS_MAX_USERS_PER_CLIENT_PER_HOUR", 20, 1, 10**6)
            ),
            client_ip_header=env.get("RECS_CLIENT_IP_HEADER", "").strip().lower() or None,
        )


@lru_cache
def get_settings() -> Settings:
    return Settings.from_env()
