"""Flat string labels from nested metadata and tag lists."""

from __future__ import annotations

from tocsin.ingest import labels
from tocsin.ingest.fingerprints import content_fingerprint


def test_nested_objects_flatten_with_dots_and_scalars_become_json_text() -> None:
    flat = labels.flatten(
        {"k8s": {"ns": "prod", "pod": {"name": "api-1"}}, "replicas": 3, "canary": True, "x": None}
    )
    assert flat == {"k8s.ns": "prod", "k8s.pod.name": "api-1", "replicas": "3", "canary": "true"}


def test_lists_of_scalars_join_and_lists_of_objects_stay_out() -> None:
    assert labels.flatten({"zones": ["a", "b"], "targets": [{"id": 1}]}) == {"zones": "a,b"}


def test_labels_are_capped_in_number_and_length() -> None:
    flat = labels.flatten({f"k{n}": "v" * 5000 for n in range(500)})
    assert len(flat) == labels.MAX_LABELS
    assert all(len(value) == labels.MAX_VALUE for value in flat.values())


def test_tags_split_on_the_first_colon_and_are_all_kept() -> None:
    tags = labels.split_tags("env:prod, url:https://x.example.com ,critical-path,")
    assert labels.from_tags(tags) == {
        "env": "prod",
        "url": "https://x.example.com",
        "tags": "env:prod,url:https://x.example.com,critical-path",
    }


def test_the_content_fingerprint_ignores_case_spacing_and_label_order() -> None:
    first = content_fingerprint(title="Disk  full", source="Web-1 ", labels={"a": "1", "b": "2"})
    second = content_fingerprint(title="disk full", source="web-1", labels={"b": "2", "a": "1"})
    assert first == second
    other_source = content_fingerprint(title="disk full", source="web-2", labels={"a": "1"})
    assert other_source != content_fingerprint(title="disk full", source="web-1", labels={"a": "1"})
