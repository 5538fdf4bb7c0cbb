"""The first steps of a runbook section, whole: a retrieval answer leads with them (agent/excerpt.py)."""

from __future__ import annotations

from agent.excerpt import has_steps, lead

MITIGATION = """\
1. Pause auto-sync, otherwise it re-applies the bad revision
   a few minutes after your rollback:
   ```bash
   argocd app set checkout-api --sync-policy none
   ```
2. Turn the feature flag off first.
3. Roll back:
   ```bash
   kubectl -n shop rollout undo deployment/checkout-api
   ```
4. Verify the 5xx ratio.

Rollback of the rollback: run the undo again.
"""


def test_the_first_steps_come_whole_with_their_code_blocks_and_wrapped_lines_joined() -> None:
    excerpt = lead(MITIGATION, max_chars=1200, max_steps=3)

    assert excerpt.text == (
        "1. Pause auto-sync, otherwise it re-applies the bad revision a few minutes after your rollback:\n"
        "   ```bash\n"
        "   argocd app set checkout-api --sync-policy none\n"
        "   ```\n"
        "2. Turn the feature flag off first.\n"
        "3. Roll back:\n"
        "   ```bash\n"
        "   kubectl -n shop rollout undo deployment/checkout-api\n"
        "   ```"
    )
    assert (excerpt.shown, excerpt.left, excerpt.steps) == (3, 1, True)  # the paragraph after is not a step


def test_a_step_is_never_cut_even_past_the_size_and_at_least_one_is_shown() -> None:
    excerpt = lead(MITIGATION, max_chars=20, max_steps=3)

    assert excerpt.text.endswith("   argocd app set checkout-api --sync-policy none\n   ```")
    assert (excerpt.shown, excerpt.left) == (1, 3)


def test_a_section_without_steps_counts_its_blocks() -> None:
    excerpt = lead("Restart pgbouncer.\n\nThen raise max_client_conn.\n", max_chars=1200, max_steps=1)

    assert (excerpt.text, excerpt.shown, excerpt.left, excerpt.steps) == ("Restart pgbouncer.", 1, 1, False)
    assert not has_steps("Restart pgbouncer.") and has_steps(MITIGATION)
