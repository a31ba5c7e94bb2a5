"""The HTTP API: every route of ``clickport.routes`` to its function, ``$default`` for 404/405, private access logs."""

from __future__ import annotations

import json
import re

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from clickport.routes import DEFAULT_FUNCTION, DEFAULT_ROUTE_KEY, ROUTES, Route
from infra.config import DeployConfig

# What an access log line holds. Deliberately absent: $context.identity.sourceIp, $context.identity.userAgent,
# any request header (X-Forwarded-For, CloudFront-Viewer-*), the query string and the API key.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "error": "$context.error.message",
}
ACCESS_LOG_FORMAT = json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))
STAGE_NAME = "$default"  # no stage prefix in paths: the functions see /api/... as the local server does
# The routes that take events: their throttle is clickport:eventThrottle*, not the stage default.
EVENT_ROUTE_KEYS = tuple(route.route_key for route in ROUTES if route.function == "event" and route.method == "POST")


def route_construct_id(route: Route) -> str:
    """``GET /api/utm/{param}`` → ``GetApiUtmParam``."""
    words = re.findall(r"[A-Za-z0-9]+", f"{route.method.lower()} {route.path}")
    return "".join(word.capitalize() for word in words)


class HttpApi(Construct):
    """API Gateway HTTP API in front of the functions, on its ``$default`` stage with throttling."""

    def __init__(
        self, scope: Construct, construct_id: str, *, functions: dict[str, lambda_.IFunction], config: DeployConfig
    ) -> None:
        super().__init__(scope, construct_id)
        # NOTE: no cors_preflight here: HTTP API CORS is API-wide, and only /api/track may answer any origin.
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=f"clickport-{config.stage}",
            description="Clickport-compatible analytics API",
            create_default_stage=False,
        )
        integration = {
            name: integrations.HttpLambdaIntegration(f"{name.capitalize()}Integration", function)
            for name, function in functions.items()
        }
        self.routes: dict[str, apigwv2.HttpRoute] = {}
        for route in ROUTES:
            self.routes[route.route_key] = apigwv2.HttpRoute(
                self,
                route_construct_id(route),
                http_api=self.api,
                route_key=apigwv2.HttpRouteKey.with_(route.path, apigwv2.HttpMethod(route.method)),
                integration=integration[route.function],
            )
        self.routes[DEFAULT_ROUTE_KEY] = apigwv2.HttpRoute(
            self,
            "DefaultRoute",
            http_api=self.api,
            route_key=apigwv2.HttpRouteKey.DEFAULT,
            integration=integration[DEFAULT_FUNCTION],
        )
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions-APIG4",
                reason="Authorization happens in the functions: every route but /api/track checks a hashed API "
                "key with per-key permissions (spec section 1), and /api/track is public by design for the browser "
                "tracker (spec section 8). A gateway authorizer cannot give the required 401/403 precedence.",
            )
        )

        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.stage = apigwv2.CfnStage(
            self,
            "DefaultStage",
            api_id=self.api.api_id,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            access_log_settings=apigwv2.CfnStage.AccessLogSettingsProperty(
                destination_arn=self.access_logs.log_group_arn, format=ACCESS_LOG_FORMAT
            ),
            default_route_settings=apigwv2.CfnStage.RouteSettingsProperty(
                throttling_rate_limit=config.throttle_rate_limit,
                throttling_burst_limit=config.throttle_burst_limit,
            ),
            route_settings={
                route_key: {
                    "ThrottlingRateLimit": config.event_throttle_rate_limit,
                    "ThrottlingBurstLimit": config.event_throttle_burst_limit,
                }
                for route_key in EVENT_ROUTE_KEYS
            },
        )
        # Route settings name routes by key: the routes must exist before the stage refers to them.
        for route_key in EVENT_ROUTE_KEYS:
            self.stage.node.add_dependency(self.routes[route_key])

    @property
    def url(self) -> str:
        return f"{self.api.api_endpoint}/"
