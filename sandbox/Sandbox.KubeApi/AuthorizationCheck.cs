namespace Sandbox.KubeApi;

/// <summary>A further authorization an admission step made for a request (e.g. update on OWNER/finalizers for blockOwnerDeletion), and its answer.</summary>
public sealed record AuthorizationCheck(AuthorizationAttributes Attributes, bool Allowed);
