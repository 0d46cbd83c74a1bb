"""The routers of buuta's HTTP API, one module per resource."""
