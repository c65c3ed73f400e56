{{- define "greenhouse-operator.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "greenhouse-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "greenhouse-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "greenhouse-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "greenhouse-operator.labels" -}}
{{ include "greenhouse-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "greenhouse-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "greenhouse-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The metadata header of a shipped CRD: chart labels and, with crds.keep, the keep policy. Ends with a newline. */}}
{{- define "greenhouse-operator.crdMetadata" -}}
metadata:
  labels:
    {{- include "greenhouse-operator.labels" . | nindent 4 }}
  {{- if .Values.crds.keep }}
  annotations:
    # helm uninstall leaves the CRD, and with it every GreenhouseIntegration and its receivers.
    helm.sh/resource-policy: keep
  {{- end }}
{{ end -}}

{{/* Operator settings (configuration section "Operator") as environment variables. */}}
{{- define "greenhouse-operator.settingsEnv" -}}
- name: Operator__Namespace
  valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
- name: Operator__ReceiverImage
  value: {{ printf "%s:%s" .Values.receiver.image.repository (.Values.receiver.image.tag | default .Chart.AppVersion) | quote }}
- name: Operator__Concurrency
  value: {{ .Values.maxConcurrentReconciles | quote }}
- name: Operator__MetricsPort
  value: {{ .Values.metrics.port | quote }}
- name: Operator__LeaderElection__Enabled
  value: {{ .Values.leaderElection.enabled | quote }}
- name: Operator__LeaderElection__Identity
  valueFrom: {fieldRef: {fieldPath: metadata.name}}
{{- range $i, $ns := .Values.watchNamespaces }}
- name: Operator__WatchNamespaces__{{ $i }}
  value: {{ $ns | quote }}
{{- end }}
{{- range $i, $ns := .Values.apiClientNamespaces }}
- name: Operator__ApiClientNamespaces__{{ $i }}
  value: {{ $ns | quote }}
{{- end }}
{{- range $i, $secret := .Values.receiver.imagePullSecrets }}
- name: Operator__ReceiverImagePullSecrets__{{ $i }}
  value: {{ $secret.name | quote }}
{{- end }}
{{- range $i, $ns := .Values.monitoring.prometheus.namespaces }}
- name: Operator__ScrapeNamespaces__{{ $i }}
  value: {{ $ns | quote }}
{{- end }}
{{- $labels := list }}
{{- range $key, $value := .Values.monitoring.prometheus.podLabels }}
{{- $labels = append $labels (printf "%s=%s" $key $value) }}
{{- end }}
{{- range $i, $label := $labels }}
- name: Operator__ScrapePodLabels__{{ $i }}
  value: {{ $label | quote }}
{{- end }}
{{- range $i, $key := .Values.ingressAnnotationAllowList }}
- name: Operator__IngressAnnotationAllowList__{{ $i }}
  value: {{ $key | quote }}
{{- end }}
{{- range $i, $prefix := .Values.receiverImageAllowedPrefixes }}
- name: Operator__AllowedImagePrefixes__{{ $i }}
  value: {{ $prefix | quote }}
{{- end }}
{{- end -}}
