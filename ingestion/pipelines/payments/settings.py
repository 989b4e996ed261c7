"""Constants of the payments pipeline."""

PIPELINE_NAME = "payments"
DATASET_NAME = "payments"
# The API allows up to 1,000 rows a page; fewer, larger pages keep SF 1 history fast.
PAGE_SIZE = 1000
# Retries for 429 (waiting as long as Retry-After says), 5xx and truncated pages.
MAX_ATTEMPTS = 6
BACKOFF_FACTOR = 0.5
MAX_RETRY_DELAY_S = 60
REQUEST_TIMEOUT_S = 30
# dlt configuration keys of the API's location and bearer token: SOURCES__PAYMENTS__BASE_URL
# and SOURCES__PAYMENTS__TOKEN in the environment, or .dlt/config.toml and secrets.toml.
BASE_URL_KEY = "sources.payments.base_url"
TOKEN_KEY = "sources.payments.token"
