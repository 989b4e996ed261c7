"""The AWS deployment as code: CloudFormation templates and the checks `make lint` runs on them."""
