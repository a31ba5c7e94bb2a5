"""The AWS deployment of Clickport: a CDK v2 app (``python3 infra/app.py``, run by ``npx aws-cdk deploy``)."""
