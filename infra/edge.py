"""CloudFront in front of the API (viewer address and place headers, secret origin header) and ``/cp.js`` from S3."""

from __future__ import annotations

import hashlib

from aws_cdk import Acknowledgment, Aws, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct

from clickport.http.client import ORIGIN_SECRET_HEADER
from infra.api import HttpApi
from infra.config import DeployConfig
from infra.storage import acknowledge_no_server_access_logs, private_bucket

# Spec 5.3: the client address and places, trusted only under the secret origin header.
VIEWER_HEADERS = (
    "CloudFront-Viewer-Address",
    "CloudFront-Viewer-Country",
    "CloudFront-Viewer-Country-Region",
    "CloudFront-Viewer-City",
)
# What the functions read from the request. Not Host: API Gateway routes on its own host name.
# (CloudFront adds X-Forwarded-For by itself.) Ten headers is CloudFront's default quota per policy.
API_REQUEST_HEADERS = (
    "x-api-key",
    "User-Agent",
    "Content-Type",
    "Origin",
    "Access-Control-Request-Method",
    "Access-Control-Request-Headers",
)
TRACKER_PATH = "/cp.js"
TRACKER_KEY = "cp.js"
# Browsers keep /cp.js 5 minutes, CloudFront a day; each deploy that changes the script invalidates
# CloudFront's copies, so a new tracker reaches every visitor within about 5 minutes of the deploy.
# CloudFront, "Manage how long content stays in the cache": "If you want objects to stay in CloudFront edge
# caches for a different duration than they stay in browser caches, you can use the Cache-Control max-age
# and Cache-Control s-maxage directives together."
TRACKER_BROWSER_SECONDS = 300
TRACKER_EDGE_SECONDS = 86400
TRACKER_CACHE_CONTROL = f"public, max-age={TRACKER_BROWSER_SECONDS}, s-maxage={TRACKER_EDGE_SECONDS}"


def origin_secret(scope: Construct, config: DeployConfig) -> secretsmanager.Secret:
    """A random header value shared by CloudFront and the event function (a new generation replaces it)."""
    return secretsmanager.Secret(
        scope,
        f"OriginSecretV{config.origin_secret_generation}",
        description="Header value CloudFront sends to the API; the event function trusts viewer headers only with it",
        generate_secret_string=secretsmanager.SecretStringGenerator(
            exclude_punctuation=True, include_space=False, password_length=48
        ),
        removal_policy=RemovalPolicy.DESTROY,
    )


class Edge(Construct):
    """The distribution: everything to the API uncached, except ``/cp.js`` (cached, from a private bucket)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, api: HttpApi, secret_value: str, config: DeployConfig
    ) -> None:
        super().__init__(scope, construct_id)
        self.tracker_bucket = private_bucket(self, "TrackerBucket", removal_policy=RemovalPolicy.DESTROY)
        acknowledge_no_server_access_logs(self.tracker_bucket, "CloudFront (origin access control)")
        self._upload_tracker_script(config)

        self.origin_request_policy = cloudfront.OriginRequestPolicy(
            self,
            "ApiOriginRequest",
            comment="Clickport API: viewer address and places, the API key and what CORS needs; no cookies",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(*VIEWER_HEADERS, *API_REQUEST_HEADERS),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.all(),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
        )
        # The bucket's one origin: /cp.js here, the dashboard's files too (infra/dashboard.py).
        self.tracker_origin = origins.S3BucketOrigin.with_origin_access_control(self.tracker_bucket)
        api_origin = origins.HttpOrigin(
            f"{api.api.api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            custom_headers={ORIGIN_SECRET_HEADER: secret_value},
            read_timeout=Duration.seconds(30),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Clickport: API (uncached) and the tracker script",
            default_behavior=cloudfront.BehaviorOptions(
                origin=api_origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=self.origin_request_policy,
                compress=True,
            ),
            additional_behaviors={
                TRACKER_PATH: cloudfront.BehaviorOptions(
                    origin=self.tracker_origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                    cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                    compress=True,
                )
            },
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=False,
        )
        self._invalidate_tracker_on_change()
        Validations.of(self.distribution).acknowledge(
            Acknowledgment(
                id="AwsSolutions-CFR1",
                reason="Analytics must count visitors from every country (the API reports country, region and city); "
                "a geo restriction would silently drop their events.",
            ),
            Acknowledgment(
                id="AwsSolutions-CFR2",
                reason="No WAF by default: abuse is bounded by the per-IP rate limit in the event function "
                "(spec 5.2) and the API stage throttle; a web ACL (us-east-1, billed per rule) can be attached "
                "by operators who want one.",
            ),
            Acknowledgment(
                id="AwsSolutions-CFR3",
                reason="Privacy: CloudFront standard logs always contain the client IP and User-Agent, which this "
                "project never writes to storage or logs (spec 5.4); access logging stays off on purpose.",
            ),
            Acknowledgment(
                id="AwsSolutions-CFR4",
                reason="The distribution uses the default *.cloudfront.net certificate, for which CloudFront fixes "
                "the viewer TLS policy; a custom domain with an ACM certificate is needed to raise it.",
            ),
        )

    def _upload_tracker_script(self, config: DeployConfig) -> None:
        """Put the built tracker at ``cp.js`` (and remove it on stack deletion) with an exactly scoped role."""
        script = config.tracker_script_path
        if not script.is_file():
            raise FileNotFoundError(
                f"the tracker script {script} does not exist: build the tracker first "
                "or point context clickport:trackerScript at the file to serve as /cp.js"
            )
        object_arn = self.tracker_bucket.arn_for_objects(TRACKER_KEY)
        target = {"Bucket": self.tracker_bucket.bucket_name, "Key": TRACKER_KEY}
        put_script = cr.AwsSdkCall(
            service="S3",
            action="putObject",
            parameters={
                **target,
                "Body": script.read_text(encoding="utf-8"),
                "ContentType": "text/javascript; charset=utf-8",
                "CacheControl": TRACKER_CACHE_CONTROL,
            },
            physical_resource_id=cr.PhysicalResourceId.of("tracker-script"),
        )
        log_group = logs.LogGroup(
            self, "TrackerUploadLogs", retention=config.retention, removal_policy=RemovalPolicy.DESTROY
        )
        # NOTE: the AwsCustomResource provider is one function per stack: both custom resources here share
        # this role, which may put and delete the one object and invalidate /cp.js in this distribution.
        role = iam.Role(
            self,
            "TrackerUploadRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Deploy-time upload of the tracker script and invalidation of its cached copies",
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn])
        )
        self._custom_resource_role, self._custom_resource_logs = role, log_group
        self._tracker_digest = hashlib.sha256(script.read_bytes()).hexdigest()[:32]
        self.tracker_upload = cr.AwsCustomResource(
            self,
            "TrackerScript",
            on_create=put_script,
            on_update=put_script,
            on_delete=cr.AwsSdkCall(
                service="S3", action="deleteObject", parameters=target,
                physical_resource_id=cr.PhysicalResourceId.of("tracker-script"),
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["s3:PutObject", "s3:DeleteObject"], resources=[object_arn])]
            ),
            role=role,
            log_group=log_group,
            install_latest_aws_sdk=False,
            timeout=Duration.minutes(2),
        )

    def _invalidate_tracker_on_change(self) -> None:
        """After each deploy that uploads a changed script, drop CloudFront's cached copies of ``/cp.js``.

        The call is keyed by the script's hash (``CallerReference``), so the custom resource changes, and
        runs, exactly when the script does. CloudFront, "Invalidate files to remove content": invalidating
        removes a file from CloudFront edge caches "before it expires"; the next request fetches it again.
        """
        distribution_arn = Stack.of(self).format_arn(
            service="cloudfront", region="", resource="distribution", resource_name=self.distribution.distribution_id
        )
        invalidate = cr.AwsSdkCall(
            service="CloudFront",
            action="createInvalidation",
            parameters={
                "DistributionId": self.distribution.distribution_id,
                "InvalidationBatch": {
                    "CallerReference": f"cp.js-{self._tracker_digest}",
                    "Paths": {"Quantity": 1, "Items": [TRACKER_PATH]},
                },
            },
            physical_resource_id=cr.PhysicalResourceId.of(f"tracker-invalidation-{self._tracker_digest}"),
        )
        self.tracker_invalidation = cr.AwsCustomResource(
            self,
            "TrackerInvalidation",
            on_create=invalidate,
            on_update=invalidate,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["cloudfront:CreateInvalidation"], resources=[distribution_arn])]
            ),
            role=self._custom_resource_role,
            log_group=self._custom_resource_logs,
            install_latest_aws_sdk=False,
            timeout=Duration.minutes(2),
        )
        self.tracker_invalidation.node.add_dependency(self.tracker_upload)

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}/"
