"""The intent/entity contract of ../shared/INTENTS.md, as data (validate, export, tests)."""

from __future__ import annotations

INTENTS = (
    "greet", "goodbye", "thanks", "help", "affirm", "deny", "cancel", "change_language",
    "find_job", "job_alert", "post_job", "order_voucher", "voucher_balance", "redeem_voucher",
    "request_ppe", "ppe_status", "list_parent_evenings", "join_parent_evening",
    "cancel_parent_evening", "my_appointments", "shop_info", "subscribe_shop",
    "unsubscribe_shop", "broadcast_update", "export_my_data", "delete_my_data",
)
ENTITIES = (
    "job_field", "employment_type", "location", "shop", "shop_category", "amount",
    "voucher_code", "ppe_item", "quantity", "school", "school_class", "time",
)
CANONICAL = {
    "job_field": frozenset({"nursing", "care_for_elderly", "medical", "retail", "logistics",
                            "gastronomy", "cleaning", "it", "education", "crafts", "office",
                            "agriculture"}),
    "employment_type": frozenset({"full_time", "part_time", "mini_job", "temporary",
                                  "apprenticeship"}),
    "ppe_item": frozenset({"ffp2_mask", "surgical_mask", "gloves", "gown", "face_shield",
                           "goggles", "disinfectant"}),
    "shop_category": frozenset({"bakery", "cafe", "restaurant", "bookshop", "florist",
                                "fashion", "bike", "grocery", "pharmacy", "other"}),
}
