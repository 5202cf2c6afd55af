"""The Scrapy project of newsflow: one generic news spider driven by ``sources.yaml``."""
