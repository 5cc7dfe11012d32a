"""``deepimage demo``: the tour's parts (:mod:`.tour`) and its HTML page (:mod:`.page`)."""
