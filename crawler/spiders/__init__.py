"""One spider per discovery method: feeds, sitemap, site, recrawl."""
