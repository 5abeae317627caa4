"""One typed settings object for recs_ml, read from the environment (prefix ``RECS_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def repo_root() -> Path | None:
    """The monorepo root when recs_ml runs from a checkout (editable install), else None."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "packages" / "ml").is_dir() and (parent / "pyproject.toml").is_file():
            return parent
    return None


def _default_home() -> Path:
    root = repo_root()
    return (root / ".recs") if root else Path.cwd() / ".recs"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECS_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="data cache, runs, registry, DBs")
    endpoint_host: str = "127.0.0.1"
    endpoint_port: int = 8080
    endpoint_url: str | None = Field(
        default=None, description="the local endpoint's URL (default http://host:port above)"
    )
    model_package_group: str = "recs-movielens"
    # The API's caps on one user's ratings (same variables as packages/api); the process step
    # leaves out API users above them.
    max_ratings_per_user: int = Field(default=1000, ge=1)
    max_ratings_per_user_per_day: int = Field(default=200, ge=1)
    # Catalogs of at least this many items are served through an IVF index (recs_ml.serving.ann).
    index_threshold: int = Field(default=100_000, ge=1)
    index_target_recall: float = Field(default=0.97, gt=0.0, le=1.0)

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def registry_path(self) -> Path:
        return self.home / "registry.db"

    @property
    def store_path(self) -> Path:
        """SQLite ratings store shared with the API (users and ratings people add)."""
        return self.home / "store.db"


@lru_cache
def get_settings() -> Settings:
    return Settings()
