/// The physics a trace was drawn from, one case per channel kind.
public enum TracePhysics: Sendable, Hashable {
    case coldRoom(ColdRoomPhysics)
    case soil(SoilPhysics)
    case scale(ScalePhysics)
    case generic(GenericPhysics)
}
