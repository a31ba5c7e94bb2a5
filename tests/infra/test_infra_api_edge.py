"""Template assertions for the request path: functions, HTTP API routes and logs, CloudFront, alarms, outputs."""

from __future__ import annotations

import json

from infra_helpers import render

from clickport.http.client import ORIGIN_SECRET_HEADER
from clickport.routes import DEFAULT_FUNCTION, DEFAULT_ROUTE_KEY, ROUTES
from clickport.settings import Settings
from infra.edge import API_REQUEST_HEADERS, VIEWER_HEADERS
from clickport.cli.aws import OUTPUTS as CLI_OUTPUTS

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed cache policies
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def _function_ids(synth) -> dict[str, str]:
    return {name: synth.logical_id(fn) for name, fn in synth.stack.functions.functions.items()}


def _function(synth, name):
    return synth.resources[_function_ids(synth)[name]]["Properties"]


# Functions


def test_functions_are_python313_arm64_on_the_common_layer_with_explicit_size(synth):
    layer_id = synth.logical_id(synth.stack.functions.layer)
    layer = synth.resources[layer_id]["Properties"]
    assert layer["CompatibleArchitectures"] == ["arm64"]
    assert layer["CompatibleRuntimes"] == ["python3.13"]
    functions = synth.of_type("AWS::Lambda::Function")
    for name, logical_id in _function_ids(synth).items():
        props = functions[logical_id]["Properties"]
        assert props["Runtime"] == "python3.13", name
        assert props["Architectures"] == ["arm64"], name
        assert props["Handler"] == "handler.lambda_handler", name
        assert props["Layers"] == [{"Ref": layer_id}], name
        assert props["MemorySize"] >= 256 and props["Timeout"] <= 29, name


def test_function_logs_go_to_their_own_group_with_the_context_retention(synth):
    groups = synth.of_type("AWS::Logs::LogGroup")
    for name in _function_ids(synth):
        group_ref = _function(synth, name)["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group_ref]["Properties"]["RetentionInDays"] == 14, name
    assert all(group["Properties"]["RetentionInDays"] == 14 for group in groups.values())


def _settings_of(synth, name) -> Settings:
    """What ``Settings.from_env`` makes of a function's environment (tokens rendered as ``${LogicalId}``)."""
    variables = _function(synth, name)["Environment"]["Variables"]
    return Settings.from_env({key: str(render(value)) for key, value in variables.items()})


def test_function_environment_fills_the_settings_each_function_needs(synth):
    stack = synth.stack
    config_table = "${" + synth.logical_id(stack.tables.config) + "}"
    live_table = "${" + synth.logical_id(stack.tables.live) + "}"
    stream = ",".join("${" + synth.logical_id(one) + "}" for one in stack.ingest.streams)
    for name in ("event", "query", "realtime", "goals"):
        settings = _settings_of(synth, name)
        assert settings.backend == "aws", name
        assert settings.config_table == config_table, name
    event = _settings_of(synth, "event")
    assert (event.live_table, event.firehose_stream) == (live_table, stream)
    assert "resolve:secretsmanager" in event.origin_secret
    assert _settings_of(synth, "realtime").live_table == live_table
    for name in ("query", "goals"):
        settings = _settings_of(synth, name)
        assert (settings.athena_workgroup, settings.athena_database, settings.athena_table) == (
            "clickport-test",
            "clickport_test",
            "events",
        )
        assert settings.athena_timeout_seconds == 25


def test_only_the_event_function_knows_the_origin_secret(synth):
    for name in ("query", "realtime", "goals"):
        assert "CLICKPORT_ORIGIN_SECRET" not in _function(synth, name)["Environment"]["Variables"]


def test_functions_log_and_measure_with_powertools(synth):
    for name in _function_ids(synth):
        variables = _function(synth, name)["Environment"]["Variables"]
        assert variables["POWERTOOLS_SERVICE_NAME"] == f"clickport-{name}"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Clickport"


# HTTP API


def _integration_function(synth, route):
    target = render(route["Properties"]["Target"])
    integration_id = target.removeprefix("integrations/${").removesuffix("}")
    integration = synth.resources[integration_id]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    return integration["IntegrationUri"]["Fn::GetAtt"][0]


def test_every_route_reaches_the_function_the_route_table_names(synth):
    function_ids = _function_ids(synth)
    routes = {route["Properties"]["RouteKey"]: route for route in synth.of_type("AWS::ApiGatewayV2::Route").values()}
    expected = {route.route_key: route.function for route in ROUTES} | {DEFAULT_ROUTE_KEY: DEFAULT_FUNCTION}
    assert set(routes) == set(expected)
    for route_key, function in expected.items():
        assert _integration_function(synth, routes[route_key]) == function_ids[function], route_key


def test_api_gateway_can_invoke_each_function_only_through_this_api(synth):
    api_id = synth.logical_id(synth.stack.http.api)
    invoked = set()
    for permission in synth.of_type("AWS::Lambda::Permission").values():
        props = permission["Properties"]
        if props["Principal"] == "apigateway.amazonaws.com":
            assert f"${{{api_id}}}/*/" in render(props["SourceArn"])
            invoked.add(props["FunctionName"]["Fn::GetAtt"][0])
    assert invoked == set(_function_ids(synth).values())


def test_api_has_no_gateway_cors_because_only_the_tracker_route_allows_any_origin(synth):
    (api,) = synth.of_type("AWS::ApiGatewayV2::Api").values()
    assert "CorsConfiguration" not in api["Properties"]
    assert api["Properties"]["ProtocolType"] == "HTTP"


def test_stage_throttles_and_logs_without_client_ip_user_agent_or_headers(synth):
    (stage,) = synth.of_type("AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "$default"
    assert props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 234, "ThrottlingRateLimit": 123}
    # The event routes have their own throttle (clickport:eventThrottle*), and the stage waits for them.
    event_routes = {"POST /api/event", "POST /api/track"}
    assert props["RouteSettings"] == {
        key: {"ThrottlingBurstLimit": 2345, "ThrottlingRateLimit": 4321} for key in event_routes
    }
    routes = {resource["Properties"]["RouteKey"]: logical_id
              for logical_id, resource in synth.of_type("AWS::ApiGatewayV2::Route").items()}
    assert {routes[key] for key in event_routes} <= set(stage["DependsOn"])
    log_format = props["AccessLogSettings"]["Format"]
    fields = json.loads(log_format)
    assert fields["requestId"] == "$context.requestId"
    for leak in ("sourceIp", "userAgent", "identity", "header", "forwarded", "querystring", "authorizer"):
        assert leak.lower() not in log_format.lower(), leak
    assert render(props["AccessLogSettings"]["DestinationArn"]) == (
        "${" + synth.logical_id(synth.stack.http.access_logs) + ".Arn}"
    )


# CloudFront


def _distribution(synth):
    (distribution,) = synth.of_type("AWS::CloudFront::Distribution").values()
    return distribution["Properties"]["DistributionConfig"]


def _origins(synth):
    return {origin["Id"]: origin for origin in _distribution(synth)["Origins"]}


def test_api_behaviour_is_uncached_and_forwards_viewer_address_and_places(synth):
    config = _distribution(synth)
    default = config["DefaultCacheBehavior"]
    assert default["CachePolicyId"] == CACHING_DISABLED
    assert default["ViewerProtocolPolicy"] == "https-only"
    assert set(default["AllowedMethods"]) >= {"GET", "POST", "OPTIONS"}
    policy = synth.resources[default["OriginRequestPolicyId"]["Ref"]]["Properties"]["OriginRequestPolicyConfig"]
    headers = policy["HeadersConfig"]
    assert headers["HeaderBehavior"] == "whitelist"
    assert set(headers["Headers"]) == set(VIEWER_HEADERS) | set(API_REQUEST_HEADERS)
    assert "Host" not in headers["Headers"] and len(headers["Headers"]) <= 10
    assert policy["CookiesConfig"]["CookieBehavior"] == "none"
    api_origin = _origins(synth)[default["TargetOriginId"]]
    assert render(api_origin["DomainName"]).startswith("${" + synth.logical_id(synth.stack.http.api) + "}.execute-api.")
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_cloudfront_and_the_event_function_share_the_secret_origin_header(synth):
    default = _distribution(synth)["DefaultCacheBehavior"]
    (header,) = _origins(synth)[default["TargetOriginId"]]["OriginCustomHeaders"]
    assert header["HeaderName"] == ORIGIN_SECRET_HEADER
    secret_id = synth.logical_id(synth.stack.origin_secret)
    expected = "{{resolve:secretsmanager:${" + secret_id + "}:SecretString:::}}"
    assert render(header["HeaderValue"]) == expected
    assert render(_function(synth, "event")["Environment"]["Variables"]["CLICKPORT_ORIGIN_SECRET"]) == expected
    secret = synth.resources[secret_id]["Properties"]["GenerateSecretString"]
    assert secret["PasswordLength"] >= 32 and secret["ExcludePunctuation"] is True


def test_tracker_script_is_served_cached_from_a_private_bucket(synth, tracker_script):
    config = _distribution(synth)
    (behaviour,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/cp.js"]
    assert behaviour["CachePolicyId"] == CACHING_OPTIMIZED
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    origin = _origins(synth)[behaviour["TargetOriginId"]]
    bucket_id = synth.logical_id(synth.stack.edge.tracker_bucket)
    assert render(origin["DomainName"]) == "${" + bucket_id + ".RegionalDomainName}"
    assert "OriginAccessControlId" in origin
    upload = _custom_resource(synth, "putObject")
    create = json.loads(render(upload["Properties"]["Create"]))
    assert create["parameters"]["Key"] == "cp.js"
    assert create["parameters"]["Body"] == tracker_script.read_text()
    assert create["parameters"]["ContentType"].startswith("text/javascript")
    # Browsers 5 minutes, CloudFront a day (s-maxage), and a deploy with a new script invalidates CloudFront.
    assert create["parameters"]["CacheControl"] == "public, max-age=300, s-maxage=86400"


def _custom_resource(synth, action: str) -> dict:
    (found,) = [resource for resource in synth.of_type("Custom::AWS").values()
                if json.loads(render(resource["Properties"]["Create"]))["action"] == action]
    return found


def test_a_deploy_that_changes_the_tracker_invalidates_cloudfronts_copies(synth, tracker_script):
    import hashlib

    invalidation = _custom_resource(synth, "createInvalidation")
    digest = hashlib.sha256(tracker_script.read_bytes()).hexdigest()[:32]
    for event in ("Create", "Update"):
        call = json.loads(render(invalidation["Properties"][event]))
        assert call["service"] == "CloudFront"
        batch = call["parameters"]["InvalidationBatch"]
        assert batch == {"CallerReference": f"cp.js-{digest}", "Paths": {"Quantity": 1, "Items": ["/cp.js"]}}
        assert call["parameters"]["DistributionId"] == "${" + synth.logical_id(synth.stack.edge.distribution) + "}"
    upload_id = next(logical_id for logical_id, resource in synth.of_type("Custom::AWS").items()
                     if json.loads(render(resource["Properties"]["Create"]))["action"] == "putObject")
    assert upload_id in invalidation["DependsOn"]  # the new object is in place before the caches are dropped


def test_cloudfront_writes_no_access_logs(synth):
    assert "Logging" not in _distribution(synth)


# Alarms and outputs


def _alarms(synth):
    return list(synth.of_type("AWS::CloudWatch::Alarm").values())


def test_every_function_has_error_and_throttle_alarms(synth):
    alarmed = {
        (alarm["Properties"]["MetricName"], alarm["Properties"]["Dimensions"][0]["Value"]["Ref"])
        for alarm in _alarms(synth)
        if alarm["Properties"].get("Namespace") == "AWS/Lambda"
    }
    # The compaction function (tests/infra/test_infra_compaction.py) is alarmed on its errors only: with a
    # reserved concurrency of 1, an invocation during a run is throttled on purpose.
    compaction = synth.logical_id(synth.stack.compaction.function)
    assert alarmed == {(metric, fn) for fn in _function_ids(synth).values() for metric in ("Errors", "Throttles")} | {
        ("Errors", compaction)
    }


def _math_metrics(alarm) -> list[dict]:
    return [query["MetricStat"]["Metric"] for query in alarm["Properties"].get("Metrics", []) if "MetricStat" in query]


def test_firehose_delivery_and_dynamodb_throttles_are_alarmed(synth):
    streams = {"${" + synth.logical_id(stream) + "}" for stream in synth.stack.ingest.streams}
    covered: dict[str, set] = {}
    for alarm in _alarms(synth):
        for metric in _math_metrics(alarm):
            if metric.get("Namespace") == "AWS/Firehose":
                covered.setdefault(metric["MetricName"], set()).add(render(metric["Dimensions"][0]["Value"]))
    # Delivery, conversion and freshness as before; the Firehose best-practice alarms (ThrottledRecords, put
    # calls against PutRequestsPerSecondLimit) and the active-partition limit; every one over every stream.
    expected = {
        "DeliveryToS3.Success", "FailedConversion.Records", "DeliveryToS3.DataFreshness", "ThrottledRecords",
        "PartitionCountExceeded", "IncomingPutRequests", "PutRequestsPerSecondLimit",
    }
    assert set(covered) == expected
    assert all(dimensions == streams for dimensions in covered.values()), covered
    throttled_tables = set()
    for alarm in _alarms(synth):
        for query in alarm["Properties"].get("Metrics", []):
            stat = query.get("MetricStat", {}).get("Metric", {})
            if stat.get("MetricName") in ("ReadThrottleEvents", "WriteThrottleEvents"):
                throttled_tables.add(stat["Dimensions"][0]["Value"]["Ref"])
    assert throttled_tables == {synth.logical_id(synth.stack.tables.config), synth.logical_id(synth.stack.tables.live)}


def _alarm(synth, name):
    return synth.resources[synth.logical_id(synth.stack.monitoring.alarms[name])]["Properties"]


def test_handled_500s_of_every_function_and_503s_of_the_event_function_are_alarmed(synth):
    for name in ("event", "query", "realtime", "goals"):
        props = _alarm(synth, f"{name}-server-errors")
        assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("Clickport", "ServerErrors", "Sum")
        dimensions = {d["Name"]: d["Value"] for d in props["Dimensions"]}
        assert dimensions == {"service": f"clickport-{name}", "status": "500"}
        assert props["Threshold"] == 1
    unavailable = {d["Name"]: d["Value"] for d in _alarm(synth, "event-unavailable")["Dimensions"]}
    assert unavailable == {"service": "clickport-event", "status": "503"}


def test_the_server_error_metric_a_function_emits_is_the_one_its_alarm_watches(synth, capsys, monkeypatch):
    """CloudWatch tells metrics apart by every dimension: the EMF line the handler prints under the function's
    own environment (Powertools adds ``service`` from POWERTOOLS_SERVICE_NAME) must carry exactly the alarm's."""
    from clickport.http.observability import count_server_errors

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "set-by-lambda")
    for name in ("event", "query"):
        variables = _function(synth, name)["Environment"]["Variables"]
        for key in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"):
            monkeypatch.setenv(key, variables[key])
        count_server_errors(name, {"statusCode": 500, "body": "{}"})
        count_server_errors(name, {"statusCode": 200, "body": "{}"})  # not counted
        (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
        document = json.loads(line)
        [directive] = document["_aws"]["CloudWatchMetrics"]
        props = _alarm(synth, f"{name}-server-errors")
        assert directive["Namespace"] == props["Namespace"]
        assert directive["Metrics"][0]["Name"] == props["MetricName"]
        assert set(directive["Dimensions"][0]) == {d["Name"] for d in props["Dimensions"]}
        assert all(document[d["Name"]] == d["Value"] for d in props["Dimensions"])


def test_api_5xx_share_is_alarmed(synth):
    props = _alarm(synth, "api-5xx-rate")
    expression = next(query["Expression"] for query in props["Metrics"] if "Expression" in query)
    assert "errors / requests" in expression
    metrics = {m["MetricName"]: m for m in _math_metrics({"Properties": props})}
    assert set(metrics) == {"5xx", "Count"}
    api_id = "${" + synth.logical_id(synth.stack.http.api) + "}"
    assert all(render(m["Dimensions"][0]["Value"]) == api_id for m in metrics.values())


def test_every_alarm_notifies_the_alarm_topic_which_mails_the_context_address(synth):
    topic_id = synth.logical_id(synth.stack.monitoring.topic)
    assert all(alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}] for alarm in _alarms(synth))
    (subscription,) = synth.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"


def test_outputs_name_the_urls_and_every_resource_the_cli_reads(synth):
    outputs = synth.template["Outputs"]
    assert {"ApiUrl", "CloudFrontUrl", *CLI_OUTPUTS} <= set(outputs)
    assert render(outputs["CloudFrontUrl"]["Value"]).startswith("https://")
    assert render(outputs["ApiUrl"]["Value"]) == "${" + synth.logical_id(synth.stack.http.api) + ".ApiEndpoint}/"


def test_the_cli_reading_the_outputs_gets_the_settings_the_functions_run_with(synth):
    outputs = synth.template["Outputs"]
    from_outputs = Settings().model_copy(
        update={field: render(outputs[name]["Value"]) for name, field in CLI_OUTPUTS.items()}
    )
    assert from_outputs.region == "${AWS::Region}"
    for name, fields in {
        "event": ("config_table", "live_table", "firehose_stream"),
        "realtime": ("config_table", "live_table"),
        "query": ("config_table", "athena_workgroup", "athena_database", "athena_table"),
    }.items():
        function_settings = _settings_of(synth, name)
        for field in fields:
            assert getattr(from_outputs, field) == getattr(function_settings, field), (name, field)
