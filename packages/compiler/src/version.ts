/** The wax version written into exported manifests (kept equal to the packages' version). */
export const WAX_VERSION = "0.1.0";
