"""kubesim: a deterministic simulator of Kubernetes Endpoints and EndpointSlices."""

from __future__ import annotations

__version__ = "0.1.0"
