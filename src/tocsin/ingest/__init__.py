"""Alert intake: inbound formats mapped to one alert model, before any state changes.

``model`` is the common alert every format produces; ``formats`` holds one module per
source (parse, validate, map, verify); ``signatures`` verifies Standard Webhooks. Nothing
here touches the database or HTTP: the pipeline and the routes build on these modules.
"""
