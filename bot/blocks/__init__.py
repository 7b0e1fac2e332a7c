"""Block Kit builders (`build_*`) and payload parsers (`parse_*`): the one place for layout."""
