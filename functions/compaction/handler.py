"""Scheduled compaction (EventBridge, hourly): each site's closed UTC days of Firehose objects rewritten into
``compacted/`` and served from there at the site's watermark (``clickport.adapters.s3_compaction``)."""

from aws_lambda_powertools import Logger

from clickport.adapters.s3_compaction import handler as compact_sites

logger = Logger(service="clickport-compaction")


@logger.inject_lambda_context
def lambda_handler(event, context):
    return compact_sites(event or {}, context)
