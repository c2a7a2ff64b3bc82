"""The project's configuration: YAML files in `sla_config/` validated into pydantic models."""

from datahealth.config.errors import ConfigError, ConfigIssue
from datahealth.config.loader import CONFIG_DIR, load_project
from datahealth.config.models import (
    DatasetConfig,
    LakeSourceConfig,
    Project,
    ProjectConfig,
    SourceConfig,
    SqlSourceConfig,
)

__all__ = [
    "CONFIG_DIR",
    "ConfigError",
    "ConfigIssue",
    "DatasetConfig",
    "LakeSourceConfig",
    "Project",
    "ProjectConfig",
    "SourceConfig",
    "SqlSourceConfig",
    "load_project",
]
