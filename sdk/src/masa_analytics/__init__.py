"""masa_analytics: what an oracle service imports to be measured and discovered.

    from masa_analytics import AnalyticsService, ServiceConfig

    service = AnalyticsService(ServiceConfig.from_env())
    service.start()                      # mTLS /metrics and /health, Consul registration
    service.metrics.record("success", 0.120)
    service.stop()                       # deregisters
"""

from .consul import ConsulAgent, ConsulError, ConsulPermissionDenied, ConsulSettings, ConsulUnavailable
from .metrics import OracleMetrics
from .service import AnalyticsService, ServiceConfig
from .tls import ConfigurationError, TLSFiles

__version__ = "0.1.0"

__all__ = [
    "AnalyticsService",
    "ConfigurationError",
    "ConsulAgent",
    "ConsulError",
    "ConsulPermissionDenied",
    "ConsulSettings",
    "ConsulUnavailable",
    "OracleMetrics",
    "ServiceConfig",
    "TLSFiles",
    "__version__",
]
