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

{{/* Where Redis is, for every component: REDIS_URL from the Secret, or the sentinels; credentials and TLS. */}}
{{- define "plinth.redisEnv" -}}
{{- $r := .Values.redis -}}
{{- if $r.sentinel.enabled -}}
{{- if $r.bundled }}{{ fail "redis.sentinel.enabled needs redis.bundled=false: the bundled Redis is one replica without sentinels" }}{{ end }}
- name: REDIS_SENTINELS
  value: {{ required "redis.sentinel.hosts is required with redis.sentinel.enabled (host:port of each sentinel)" ($r.sentinel.hosts | join ",") | quote }}
- name: REDIS_SENTINEL_NAME
  value: {{ required "redis.sentinel.masterName is required with redis.sentinel.enabled" $r.sentinel.masterName | quote }}
{{- with $r.sentinel.passwordKey }}
- name: REDIS_SENTINEL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $r.secretName }}
      key: {{ . }}
{{- end }}
{{- if $r.sentinel.tls }}
- name: REDIS_SENTINEL_TLS
  value: "true"
{{- end }}
{{- else -}}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $r.secretName }}
      key: url
{{- end }}
{{- with $r.auth.username }}
- name: REDIS_USERNAME
  value: {{ . | quote }}
{{- end }}
{{- with $r.auth.passwordKey }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $r.secretName }}
      key: {{ . }}
{{- end }}
{{- if and $r.tls.enabled $r.sentinel.enabled }}
- name: REDIS_TLS
  value: "true"
{{- end }}
{{- if $r.tls.caSecret }}
- name: REDIS_CA_FILE
  value: /etc/plinth/redis-ca/{{ $r.tls.caKey }}
{{- end }}
{{- with $r.tls.servername }}
- name: REDIS_TLS_SERVERNAME
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The Redis CA bundle's mount and volume, when redis.tls.caSecret names one. */}}
{{- define "plinth.redisCaMount" -}}
- name: redis-ca
  mountPath: /etc/plinth/redis-ca
  readOnly: true
{{- end -}}
{{- define "plinth.redisCaVolume" -}}
- name: redis-ca
  secret:
    secretName: {{ .Values.redis.tls.caSecret }}
    items:
      - {key: {{ .Values.redis.tls.caKey }}, path: {{ .Values.redis.tls.caKey }}}
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

{{/* A map of tags as "key=value,key=value" (aws-ebs-csi-driver's --extra-tags), keys sorted. */}}
{{- define "plinth.tagList" -}}
{{- $pairs := list -}}
{{- range $k, $v := . -}}{{- $pairs = append $pairs (printf "%s=%s" $k $v) -}}{{- end -}}
{{- join "," $pairs -}}
{{- end -}}
