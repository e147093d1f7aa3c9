{{- define "plinth.fullname" -}}
{{- default "plinth" .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "plinth.labels" -}}
app.kubernetes.io/name: plinth
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: plinth
{{- with .Values.customLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "plinth.image" -}}
{{- $root := index . 0 -}}
{{- $repo := index . 1 -}}
{{- printf "%s/%s:%s" $root.Values.image.registry $repo (default $root.Chart.AppVersion $root.Values.image.tag) -}}
{{- end -}}

{{/* The controller's socket: CSI_ENDPOINT of the controller, --csi-address of every controller sidecar. */}}
{{- define "plinth.controllerSocketDir" -}}/var/lib/csi/sockets/pluginproxy{{- end -}}
{{/* The node agent's socket inside its pod; on the host it is <kubeletPath>/plugins/<driverName>/csi.sock. */}}
{{- define "plinth.nodeSocketDir" -}}/csi{{- end -}}

{{/* REDIS_URL from the Secret, for every component. */}}
{{- define "plinth.redisEnv" -}}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.secretName }}
      key: url
{{- end -}}

{{/* Settings the controller, the API and the node agent share. */}}
{{- define "plinth.commonEnv" -}}
- name: PLINTH_DRIVER_NAME
  value: {{ .Values.driverName | quote }}
- name: AWS_REGION
  value: {{ required "region is required (AWS_REGION)" .Values.region | quote }}
{{- with .Values.ec2Endpoint }}
- name: EC2_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{ include "plinth.redisEnv" . }}
{{- end -}}

{{/* Leader-election and client flags shared by the controller sidecars. */}}
{{- define "plinth.sidecarArgs" -}}
{{- $root := index . 0 -}}
{{- $s := index . 1 -}}
- --csi-address=$(ADDRESS)
- --v=2
- --timeout={{ $s.timeout }}
- --leader-election=true
- --leader-election-namespace={{ $root.Release.Namespace }}
- --leader-election-lease-duration={{ $s.leaderElection.leaseDuration }}
- --leader-election-renew-deadline={{ $s.leaderElection.renewDeadline }}
- --leader-election-retry-period={{ $s.leaderElection.retryPeriod }}
- --kube-api-qps={{ $s.kubeApiQps }}
- --kube-api-burst={{ $s.kubeApiBurst }}
- --retry-interval-max={{ $s.retryIntervalMax }}
{{- end -}}

{{- define "plinth.addressEnv" -}}
- name: ADDRESS
  value: {{ include "plinth.controllerSocketDir" . }}/csi.sock
{{- end -}}

{{- define "plinth.sidecarCommon" -}}
imagePullPolicy: {{ .Values.image.pullPolicy }}
volumeMounts:
  - name: socket-dir
    mountPath: {{ include "plinth.controllerSocketDir" . }}/
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities: {drop: [ALL]}
{{- end -}}

{{/* controller.replicaCount (aws-ebs-csi-driver's name) wins over controller.replicas when set. */}}
{{- define "plinth.controllerReplicas" -}}
{{- if kindIs "invalid" .Values.controller.replicaCount -}}{{ .Values.controller.replicas }}{{- else -}}{{ .Values.controller.replicaCount }}{{- end -}}
{{- end -}}

{{/* proxy.http_proxy / proxy.no_proxy as HTTP_PROXY, HTTPS_PROXY and NO_PROXY (aws-ebs-csi-driver's values). */}}
{{- define "plinth.proxyEnv" -}}
- name: HTTP_PROXY
  value: {{ .Values.proxy.http_proxy | quote }}
- name: HTTPS_PROXY
  value: {{ .Values.proxy.http_proxy | quote }}
- name: NO_PROXY
  value: {{ .Values.proxy.no_proxy | default "" | quote }}
{{- end -}}
