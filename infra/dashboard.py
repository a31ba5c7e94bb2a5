"""The dashboard on AWS: its built files (``dashboard/dist``) in the tracker's bucket under ``dashboard/``, served by
the same CloudFront distribution as the API (same origin: no CORS): ``/`` is its page, ``/dashboard/*`` the rest.

Why the tracker's bucket: both hold public static files that only CloudFront reads (origin access control), that
``cdk deploy`` writes and stack deletion removes; one bucket keeps one bucket policy and one origin. The prefix
keeps the dashboard's objects (and the deploy role's rights on them) apart from ``cp.js``.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.edge import Edge

DASHBOARD_DIST = Path(__file__).resolve().parents[1] / "dashboard" / "dist"
PREFIX = "dashboard/"
PATH_PATTERN = f"/{PREFIX}*"
PAGE = "index.html"
DEFAULT_ROOT_OBJECT = PREFIX + PAGE  # CloudFront answers "/" with this object, through the /dashboard/* behaviour
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}
# The page is checked on every load, so a deploy shows at once; every other file has a content hash in its name.
PAGE_CACHE_CONTROL = "no-cache"
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"


def dashboard_files(folder: Path = DASHBOARD_DIST) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix in CONTENT_TYPES) if folder.is_dir() else []
    if not any(p.name == PAGE for p in files):
        raise FileNotFoundError(f"the dashboard is not built in {folder}: run `npm run build` in dashboard/")
    return files


class Dashboard(Construct):
    """Deploy-time copies of the built files into ``<tracker bucket>/dashboard/`` and the CloudFront behaviour."""

    def __init__(self, scope: Construct, construct_id: str, *, edge: Edge, folder: Path = DASHBOARD_DIST) -> None:
        super().__init__(scope, construct_id)
        self.bucket = edge.tracker_bucket
        self.files = dashboard_files(folder)
        self.keys = [PREFIX + path.name for path in self.files]
        self.uploads = [self._upload(path) for path in self.files]

        edge.distribution.add_behavior(
            PATH_PATTERN,
            edge.tracker_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
            response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            compress=True,
        )
        distribution = edge.distribution.node.default_child
        distribution.add_property_override("DistributionConfig.DefaultRootObject", DEFAULT_ROOT_OBJECT)

    def _upload(self, path: Path) -> cr.AwsCustomResource:
        """Copy one file from its CDK asset (uploaded by ``cdk deploy``) to its key; delete it with the stack.

        A file whose content changes gets a new name, so a new key: CloudFormation then deletes the old key, with
        the old properties, after the update (the delete right covers the prefix for that reason).
        """
        role = f"{path.name.split('-')[0].split('.')[0]}-{path.suffix[1:]}"  # the same ids from build to build
        asset = s3_assets.Asset(self, f"Asset-{role}", path=str(path))
        key = PREFIX + path.name
        copy = cr.AwsSdkCall(
            service="S3",
            action="copyObject",
            parameters={
                "Bucket": self.bucket.bucket_name,
                "Key": key,
                "CopySource": f"{asset.s3_bucket_name}/{asset.s3_object_key}",
                "MetadataDirective": "REPLACE",
                "ContentType": CONTENT_TYPES[path.suffix],
                "CacheControl": PAGE_CACHE_CONTROL if path.name == PAGE else ASSET_CACHE_CONTROL,
            },
            physical_resource_id=cr.PhysicalResourceId.of(key),
        )
        # NOTE: the AwsCustomResource provider is one function per stack (Edge created it for the tracker), so
        # these statements join its role: read this one asset object, write this one key, delete under the prefix.
        upload = cr.AwsCustomResource(
            self,
            f"Upload-{role}",
            on_create=copy,
            on_update=copy,
            on_delete=cr.AwsSdkCall(
                service="S3", action="deleteObject", parameters={"Bucket": self.bucket.bucket_name, "Key": key},
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements([
                iam.PolicyStatement(
                    actions=["s3:GetObject"], resources=[asset.bucket.arn_for_objects(asset.s3_object_key)]
                ),
                iam.PolicyStatement(actions=["s3:PutObject"], resources=[self.bucket.arn_for_objects(key)]),
                iam.PolicyStatement(actions=["s3:DeleteObject"], resources=[self.bucket.arn_for_objects(PREFIX + "*")]),
            ]),
            install_latest_aws_sdk=False,
            timeout=Duration.minutes(2),
        )
        stack = Stack.of(self)
        bucket_id = stack.resolve(stack.get_logical_id(self.bucket.node.default_child))
        Validations.of(upload).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{PREFIX}*]",
                reason="A deploy that changes a dashboard file gives it a new hashed name, and CloudFormation then "
                "deletes the old object, whose name only the old template knew; the right is DeleteObject alone, "
                "confined to the dashboard/ prefix of the tracker bucket.",
            )
        )
        return upload
