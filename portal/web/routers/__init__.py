"""HTTP routers, one module per audience or purpose; each is thin and calls engines or services."""
