"""The dashboard in the template: its built files copied into the tracker's bucket under dashboard/, served at
``/`` and ``/dashboard/*`` by the API's distribution (API paths and ``/cp.js`` unchanged), least-privilege copies."""

from __future__ import annotations

import json
import re

from infra_helpers import permissions, policies_of_role, render

from infra.dashboard import ASSET_CACHE_CONTROL, DASHBOARD_DIST, PAGE_CACHE_CONTROL

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # AWS managed policies
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
ARN = "arn:${AWS::Partition}"


def _calls(synth, action: str) -> dict[str, dict]:
    found = {}
    for logical_id, resource in synth.of_type("Custom::AWS").items():
        call = json.loads(render(resource["Properties"]["Create"]))
        if call["action"] == action:
            found[logical_id] = call
    return found


def _distribution(synth) -> dict:
    (distribution,) = synth.of_type("AWS::CloudFront::Distribution").values()
    return distribution["Properties"]["DistributionConfig"]


def test_every_built_file_is_copied_into_the_tracker_bucket_under_the_dashboard_prefix(synth):
    built = {path.name for path in DASHBOARD_DIST.iterdir()}
    assert "index.html" in built and any(name.endswith(".js") for name in built)
    copies = _calls(synth, "copyObject")
    bucket = "${" + synth.logical_id(synth.stack.edge.tracker_bucket) + "}"
    assert {call["parameters"]["Key"] for call in copies.values()} == {f"dashboard/{name}" for name in built}
    for logical_id, call in copies.items():
        parameters = call["parameters"]
        assert parameters["Bucket"] == bucket
        assert parameters["MetadataDirective"] == "REPLACE"
        name = parameters["Key"].removeprefix("dashboard/")
        expected = PAGE_CACHE_CONTROL if name == "index.html" else ASSET_CACHE_CONTROL
        assert parameters["CacheControl"] == expected, name
        types = {"html": "text/html", "js": "text/javascript", "css": "text/css", "json": "application/json"}
        assert parameters["ContentType"].startswith(types[name.rsplit(".", 1)[1]])
        # From the file's CDK asset (uploaded by cdk deploy), which is the committed build.
        source_bucket, source_key = parameters["CopySource"].rsplit("/", 1)
        assert "-assets-${AWS::AccountId}-${AWS::Region}" in source_bucket
        assert re.fullmatch(r"[0-9a-f]{64}\." + name.rsplit(".", 1)[1], source_key), source_key
        resource = synth.resources[logical_id]["Properties"]
        assert json.loads(render(resource["Delete"]))["action"] == "deleteObject"
        assert json.loads(render(resource["Update"])) == call
    # The assets cdk deploy uploads are the committed build, byte for byte.
    staged = {p.read_bytes() for p in synth.outdir.iterdir() if p.name.startswith("asset.") and p.is_file()}
    for name in built:
        assert (DASHBOARD_DIST / name).read_bytes() in staged, name


def test_root_and_dashboard_paths_come_from_the_bucket_and_api_paths_still_reach_the_api(synth):
    config = _distribution(synth)
    assert config["DefaultRootObject"] == "dashboard/index.html"
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviours) == {"/cp.js", "/dashboard/*"}
    dashboard = behaviours["/dashboard/*"]
    assert dashboard["TargetOriginId"] == behaviours["/cp.js"]["TargetOriginId"]  # the tracker bucket's one origin
    assert dashboard["AllowedMethods"] == ["GET", "HEAD"]
    assert dashboard["CachePolicyId"] == CACHING_OPTIMIZED
    assert dashboard["ResponseHeadersPolicyId"] == SECURITY_HEADERS
    assert dashboard["ViewerProtocolPolicy"] == "redirect-to-https" and dashboard["Compress"] is True
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    bucket_id = synth.logical_id(synth.stack.edge.tracker_bucket)
    assert render(origins[dashboard["TargetOriginId"]]["DomainName"]) == "${" + bucket_id + ".RegionalDomainName}"
    # Everything else, /api/* included, still goes to the API through the default behaviour.
    api_origin = origins[config["DefaultCacheBehavior"]["TargetOriginId"]]
    assert ".execute-api." in render(api_origin["DomainName"])


def test_the_dashboard_copies_read_their_own_assets_and_write_only_under_the_prefix(synth):
    bucket = "${" + synth.logical_id(synth.stack.edge.tracker_bucket) + ".Arn}"
    providers = {resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
                 for resource in synth.of_type("Custom::AWS").values()}
    (provider_id,) = providers
    role_id = synth.resources[provider_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    granted = {(action, resource) for action, resource, _ in permissions(policies_of_role(synth.resources, role_id))}
    keys = {call["parameters"]["Key"] for call in _calls(synth, "copyObject").values()}
    assert {(a, r) for a, r in granted if a == "s3:PutObject" and "/dashboard/" in r} == {
        ("s3:PutObject", f"{bucket}/{key}") for key in keys}
    assert {(a, r) for a, r in granted if a == "s3:DeleteObject" and "/dashboard/" in r} == {
        ("s3:DeleteObject", f"{bucket}/dashboard/*")}
    reads = {r for a, r in granted if a == "s3:GetObject"}
    assert len(reads) == len(keys)  # one asset object each
    for resource in reads:
        assert resource.startswith(f"{ARN}:s3:::") and not resource.endswith("*"), resource
