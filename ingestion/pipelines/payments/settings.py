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
# Env vars: where the API is and the bearer token. With no URL, the pipeline serves the
# local simulator itself, on a free port, for the duration of the run.
URL_ENV = "PAYMENTS_API_URL"
TOKEN_ENV = "PAYMENTS_API_TOKEN"
# Share of requests the self-started local API answers 429 (0 to 1), e.g. for benchmarks.
RATE_LIMIT_ENV = "PAYMENTS_API_RATE_LIMIT"
