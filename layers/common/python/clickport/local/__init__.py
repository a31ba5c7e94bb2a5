"""The local runtime: an HTTP server that hosts the Lambda handlers as API Gateway would."""
