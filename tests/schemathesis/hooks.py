"""schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis

# Browsers send report-uri violation reports as application/csp-report, a JSON body.
schemathesis.serializer.alias("application/csp-report", "application/json")

# tus chunks are raw bytes (application/offset+octet-stream), sent as any binary body.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
