"""Growth and admission (裂变 · 门槛 · 规模 · 分群): referral campaigns and their rewards,
application forms and join codes, paid membership, capacity with waitlists and
one-in-one-out, and routing into segment groups. See docs/growth.md.

Engines here are pure where they can be (referral_rules.py, admission.auto_review); the
modules that write do so in the caller's transaction, with unique keys and conditional
UPDATEs so a re-run or a racing worker never doubles an effect.
"""
