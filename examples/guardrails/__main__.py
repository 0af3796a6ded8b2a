"""The Truto guardrails policy pack: `pulumi preview --policy-pack examples/guardrails`."""

from truto_pulumi.policy import serve_pack

serve_pack("truto-guardrails")
