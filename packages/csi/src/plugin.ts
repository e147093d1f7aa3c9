import { PluginCapability_Service_Type as Service, PluginCapability_VolumeExpansion_Type as Expansion, type GetPluginCapabilitiesResponse } from './gen/csi.js';

/**
 * GetPluginCapabilities describes the driver as a whole, so the controller and
 * every node agent answer the same (as aws-ebs-csi-driver's instances do):
 * tools such as csi-sanity ask the node endpoint whether a controller service
 * exists before they decide to call ControllerPublishVolume.
 */
export function pluginCapabilities(): GetPluginCapabilitiesResponse {
  return {
    capabilities: [
      { service: { type: Service.CONTROLLER_SERVICE } },
      { service: { type: Service.VOLUME_ACCESSIBILITY_CONSTRAINTS } },
      { service: { type: Service.GROUP_CONTROLLER_SERVICE } },
      { service: { type: Service.SNAPSHOT_METADATA_SERVICE } },
      { volumeExpansion: { type: Expansion.ONLINE } },
    ],
  };
}
