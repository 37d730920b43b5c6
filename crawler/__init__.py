"""Scrapy project of the news archive: spiders per discovery method, one pipeline into ``archive``."""
