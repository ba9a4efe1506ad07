{{/* Chart name, overridable. */}}
{{- define "okg-sq.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object name prefix: <release>-okg-sq, or the release name when it already contains the chart name. */}}
{{- define "okg-sq.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "okg-sq.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "okg-sq.labels" -}}
helm.sh/chart: {{ include "okg-sq.chart" . }}
app.kubernetes.io/name: {{ include "okg-sq.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: okg-sq
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component (decider or agent); call with (dict "ctx" $ "component" "decider"). */}}
{{- define "okg-sq.selectorLabels" -}}
app.kubernetes.io/name: {{ include "okg-sq.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "okg-sq.componentLabels" -}}
{{ include "okg-sq.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "okg-sq.decider.name" -}}{{ include "okg-sq.fullname" . }}-decider{{- end -}}
{{- define "okg-sq.agent.name" -}}{{ include "okg-sq.fullname" . }}-agent{{- end -}}
{{- define "okg-sq.decider.metricsServiceName" -}}{{ include "okg-sq.fullname" . }}-decider-metrics{{- end -}}
{{- define "okg-sq.leaseName" -}}{{ default (include "okg-sq.decider.name" .) .Values.decider.leaderElection.leaseName }}{{- end -}}

{{/* DNS name the agents dial and the decider's certificate is valid for. */}}
{{- define "okg-sq.decider.serviceHost" -}}
{{ include "okg-sq.decider.name" . }}.{{ .Release.Namespace }}.svc
{{- end -}}

{{/* Secret holding the decider's serving certificate (tls.crt, tls.key) and the CA (ca.crt). */}}
{{- define "okg-sq.tls.secretName" -}}
{{- if eq .Values.tls.mode "existingSecret" -}}
{{- required "tls.existingSecret is required when tls.mode is existingSecret" .Values.tls.existingSecret -}}
{{- else -}}
{{- include "okg-sq.fullname" . }}-grpc-tls
{{- end -}}
{{- end -}}

{{- define "okg-sq.tls.enabled" -}}
{{- if ne .Values.tls.mode "none" -}}true{{- end -}}
{{- end -}}

{{/* image reference; call with (dict "image" .Values.decider.image "ctx" $). */}}
{{- define "okg-sq.image" -}}
{{- if .image.digest -}}
{{ .image.repository }}@{{ .image.digest }}
{{- else -}}
{{ .image.repository }}:{{ default .ctx.Chart.AppVersion .image.tag }}
{{- end -}}
{{- end -}}

{{/* Host path of the CRI socket, from the runtime preset or the custom path. */}}
{{- define "okg-sq.agent.criSocketPath" -}}
{{- $cri := .Values.agent.criSocket -}}
{{- if eq $cri.runtime "containerd" -}}
/run/containerd/containerd.sock
{{- else if eq $cri.runtime "cri-o" -}}
/var/run/crio/crio.sock
{{- else if eq $cri.runtime "custom" -}}
{{- required "agent.criSocket.path is required when agent.criSocket.runtime is custom" $cri.path -}}
{{- else -}}
{{- fail (printf "agent.criSocket.runtime must be containerd, cri-o or custom, not %q" $cri.runtime) -}}
{{- end -}}
{{- end -}}

{{/* The agentless node selector "key=value" split in two; fails on anything else. */}}
{{- define "okg-sq.agentlessSelectorKey" -}}
{{- $parts := splitList "=" .Values.decider.agentlessNodeSelector -}}
{{- if ne (len $parts) 2 -}}{{- fail (printf "decider.agentlessNodeSelector must be key=value, not %q" .Values.decider.agentlessNodeSelector) -}}{{- end -}}
{{- index $parts 0 -}}
{{- end -}}
{{- define "okg-sq.agentlessSelectorValue" -}}
{{- index (splitList "=" .Values.decider.agentlessNodeSelector) 1 -}}
{{- end -}}

{{/*
The generated CA + serving certificate (tls.mode generate), base64-encoded, as YAML
{caCrt, tlsCrt, tlsKey}. An existing Secret from a previous release is reused (lookup), so upgrades
keep the certificates the running agents trust. Computed once per render and cached on the root
context: several templates need the same (random) certificate.
*/}}
{{- define "okg-sq.tls.generated" -}}
{{- if not (hasKey . "okgSqGeneratedTls") -}}
{{- $secretName := include "okg-sq.tls.secretName" . -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace $secretName -}}
{{- $data := dict -}}
{{- $old := get ($existing | default dict) "data" | default dict -}}
{{- if and (get $old "ca.crt") (get $old "tls.crt") (get $old "tls.key") -}}
{{- $data = dict "caCrt" (get $old "ca.crt") "tlsCrt" (get $old "tls.crt") "tlsKey" (get $old "tls.key") -}}
{{- else -}}
{{- $name := include "okg-sq.decider.name" . -}}
{{- $ns := .Release.Namespace -}}
{{- $days := int .Values.tls.validityDays -}}
{{- $ca := genCA (printf "%s-ca" (include "okg-sq.fullname" .)) $days -}}
{{- $altNames := list $name (printf "%s.%s" $name $ns) (printf "%s.%s.svc" $name $ns) (printf "%s.%s.svc.%s" $name $ns .Values.clusterDomain) -}}
{{- $cert := genSignedCert (include "okg-sq.decider.serviceHost" .) nil $altNames $days $ca -}}
{{- $data = dict "caCrt" ($ca.Cert | b64enc) "tlsCrt" ($cert.Cert | b64enc) "tlsKey" ($cert.Key | b64enc) -}}
{{- end -}}
{{- $_ := set . "okgSqGeneratedTls" $data -}}
{{- end -}}
{{- toYaml (get . "okgSqGeneratedTls") -}}
{{- end -}}
