"""schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis

# Browsers send report-uri violation reports as application/csp-report, a JSON body.
schemathesis.serializer.alias("application/csp-report", "application/json")
