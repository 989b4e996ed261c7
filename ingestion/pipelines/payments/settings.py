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
# Schema drift. The fields staging reads from each record, with the JSON types each may
# have (NoneType: null; a dot reaches into an object). A record that lacks one (the API
# dropped or renamed it) or gives it another type fails the extraction, nothing loaded:
# dlt would land the field as null, or its new type in a column of its own
# (``amount__v_text``), unseen by staging. Other fields may come and go: new ones land.
RECORD_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "charges": {
        "id": (str,), "amount": (int,), "amount_refunded": (int,), "currency": (str,), "customer": (str,),
        "status": (str,), "failure_code": (str, type(None)), "created": (int,), "updated": (int,),
        "metadata.order_id": (str,),
    },
    "refunds": {
        "id": (str,), "charge": (str,), "amount": (int,), "reason": (str,), "status": (str,), "created": (int,),
    },
}  # fmt: skip
