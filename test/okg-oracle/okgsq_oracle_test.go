// okg-sq's oracle: runs OpenKruiseGame's own template, priority and service-quality code on generated
// inputs and writes what it returns, one JSON line per input line. It is not part of okg-sq's build: the
// script build-oracle.sh copies it into pkg/controllers/gameserver of kruise-game's released module (so it
// can call the unexported syncServiceQualities) and compiles it there as a test binary.
//
// Input (OKGSQ_ORACLE_IN, JSON lines):
//
//	{"t": template, "r": result}        → util.RenderTemplate and util.ParseIntOrStringFromTemplate
//	{"chain": {"qualities": [...], "gameServer": {...}, "steps": [[pod conditions], ...]}}
//	                                    → syncServiceQualities once per step, the GameServer carried over
//
// Output (OKGSQ_ORACLE_OUT): the input line's fields plus the answers. Go strings that are not valid
// UTF-8 are written as {"hex": "..."} so no byte is lost to JSON's replacement characters.
package gameserver

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	gameKruiseV1alpha1 "github.com/openkruise/kruise-game/apis/v1alpha1"
	"github.com/openkruise/kruise-game/pkg/util"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
)

type oracleChain struct {
	Qualities  []gameKruiseV1alpha1.ServiceQuality `json:"qualities"`
	GameServer gameKruiseV1alpha1.GameServer       `json:"gameServer"`
	Steps      [][]corev1.PodCondition             `json:"steps"`
}

type oracleIn struct {
	T     *string      `json:"t,omitempty"`
	R     string       `json:"r"`
	Chain *oracleChain `json:"chain,omitempty"`
}

// goString keeps every byte: a JSON string when valid UTF-8, else {"hex": ...}.
func goString(s string) any {
	if utf8.ValidString(s) {
		return s
	}
	return map[string]string{"hex": hex.EncodeToString([]byte(s))}
}

// renderCase answers one template × result. A panic inside text/template (e.g. `{{. | call}}` indexes an
// empty argument list) is reported as such: OKG's reconcile would fail there rather than render anything.
func renderCase(tmpl, result string) (out map[string]any) {
	out = map[string]any{"t": tmpl, "r": result}
	defer func() {
		if p := recover(); p != nil {
			out["out"], out["prio"], out["panic"] = nil, nil, true
		}
	}()
	out["out"] = goString(util.RenderTemplate(tmpl, result))
	if p, err := util.ParseIntOrStringFromTemplate(tmpl, result); err == nil {
		out["prio"] = p.IntVal
	} else {
		out["prio"] = nil
	}
	return out
}

type stampedCondition struct {
	Name                     string `json:"name"`
	Status                   string `json:"status,omitempty"`
	Result                   string `json:"result,omitempty"`
	LastProbeTime            string `json:"lastProbeTime,omitempty"`
	LastTransitionTime       string `json:"lastTransitionTime,omitempty"`
	LastActionTransitionTime string `json:"lastActionTransitionTime,omitempty"`
}

// stamp names the times written by this run (metav1.Now(), after start) "NOW", so answers do not depend
// on the clock; inputs carry older times.
func stamp(t time.Time, start time.Time) string {
	if t.IsZero() {
		return ""
	}
	if !t.Before(start) {
		return "NOW"
	}
	return t.UTC().Format(time.RFC3339)
}

func copyMap(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// chainCase runs syncServiceQualities once per step on one GameServer, which keeps what each step
// wrote (spec, labels, annotations, status.serviceQualitiesConditions), as OKG's controller does.
func chainCase(in *oracleChain, start time.Time) map[string]any {
	gs := in.GameServer.DeepCopy()
	steps := []map[string]any{}
	for _, podConditions := range in.Steps {
		recorder := record.NewFakeRecorder(1000)
		conditions := syncServiceQualities(in.Qualities, podConditions, gs, recorder)
		gs.Status.ServiceQualitiesCondition = conditions
		close(recorder.Events)
		events := []string{}
		for e := range recorder.Events {
			events = append(events, e)
		}
		stamped := []stampedCondition{}
		for _, c := range conditions {
			stamped = append(stamped, stampedCondition{c.Name, c.Status, c.Result, stamp(c.LastProbeTime.Time, start),
				stamp(c.LastTransitionTime.Time, start), stamp(c.LastActionTransitionTime.Time, start)})
		}
		steps = append(steps, map[string]any{
			"conditions":  stamped,
			"spec":        gs.Spec.DeepCopy(),
			"labels":      copyMap(gs.Labels),
			"annotations": copyMap(gs.Annotations),
			"events":      events,
		})
	}
	return map[string]any{"chain": in, "steps": steps}
}

func TestOkgsqOracle(t *testing.T) {
	inPath, outPath := os.Getenv("OKGSQ_ORACLE_IN"), os.Getenv("OKGSQ_ORACLE_OUT")
	if inPath == "" || outPath == "" {
		t.Skip("OKGSQ_ORACLE_IN and OKGSQ_ORACLE_OUT are not set")
	}
	in, err := os.Open(inPath)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w := bufio.NewWriter(out)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	start := time.Now().Add(-time.Second)
	for scanner.Scan() {
		line := scanner.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		var c oracleIn
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("bad input line %q: %v", line, err)
		}
		var answer map[string]any
		switch {
		case c.Chain != nil:
			answer = chainCase(c.Chain, start)
		case c.T != nil:
			answer = renderCase(*c.T, c.R)
		default:
			t.Fatalf("input line has neither t nor chain: %q", line)
		}
		if err := enc.Encode(answer); err != nil {
			t.Fatal(err)
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
}
