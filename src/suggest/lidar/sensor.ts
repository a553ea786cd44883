/** What a spinning lidar's beam pattern allows, shared by segmentation and the ground-contact test. */

/** A vertical gap in a cell wider than max(VGAP_MIN, VGAP_SLOPE · range) (m) separates two objects (about 2° of elevation). */
export const VGAP_MIN = 0.6;
export const VGAP_SLOPE = 0.035;
