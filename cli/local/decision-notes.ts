// What `okg-sq local` tells the user about an evaluation besides the new GameServer: which actions
// fired (so a change of OPSSTATE has a visible cause) and OKG's Warning events (a priority template
// that did not render an integer), which in a cluster would be Kubernetes Events.
import type { Decision } from '../../rules/evaluate.js';

export function decisionNotes(gameServer: string, decision: Decision, options: { readonly actions: boolean }): string[] {
  const notes: string[] = [];
  if (options.actions) {
    for (const a of decision.applied) {
      const outcome = a.result === '' ? String(a.state) : `${a.state}/${a.result}`;
      const ops = a.opsState !== undefined && a.opsState !== '' ? `: opsState ${a.opsState}` : '';
      notes.push(`${gameServer}: ${a.quality} ${outcome} → serviceQualityAction[${a.actionIndex}]${ops}`);
    }
  }
  for (const w of decision.warnings) {
    notes.push(`${gameServer}: warning: ${w.quality} serviceQualityAction[${w.actionIndex}]: ${w.reason}: ${w.message}`);
  }
  return notes;
}
