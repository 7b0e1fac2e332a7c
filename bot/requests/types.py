"""The kinds of help sales can ask Marketing Support for."""

from enum import StrEnum


class RequestType(StrEnum):
    DEAL_DECK = "deal_deck"
    OBJECTION_HELP = "objection_help"
    CASE_STUDY = "case_study"
    ROI_CASE = "roi_case"
    COMPETITIVE_INTEL = "competitive_intel"
    CUSTOM_CONTENT = "custom_content"
    EVENT_SUPPORT = "event_support"
    OTHER = "other"

    @property
    def label(self) -> str:
        return REQUEST_TYPE_LABELS[self]


REQUEST_TYPE_LABELS: dict[RequestType, str] = {
    RequestType.DEAL_DECK: "Deal deck",
    RequestType.OBJECTION_HELP: "Objection help",
    RequestType.CASE_STUDY: "Case study",
    RequestType.ROI_CASE: "ROI / business case",
    RequestType.COMPETITIVE_INTEL: "Competitive intel",
    RequestType.CUSTOM_CONTENT: "Custom content",
    RequestType.EVENT_SUPPORT: "Event support",
    RequestType.OTHER: "Other",
}
