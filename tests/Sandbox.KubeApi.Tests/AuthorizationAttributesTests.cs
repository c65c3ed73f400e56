namespace Sandbox.KubeApi.Tests;

/// <summary>Requests map to the RBAC verb, group, resource, subresource, namespace and name as the API server's request-info resolver maps them.</summary>
public sealed class AuthorizationAttributesTests
{
    [Theory]
    [InlineData("GET", "/api/v1/namespaces/hr/pods", "", "list", "", "pods", "", "hr", "")]
    [InlineData("GET", "/api/v1/namespaces/hr/pods", "watch=true", "watch", "", "pods", "", "hr", "")]
    [InlineData("GET", "/api/v1/pods", "watch=1", "watch", "", "pods", "", "", "")]
    [InlineData("GET", "/api/v1/namespaces/hr/pods/p", "", "get", "", "pods", "", "hr", "p")]
    [InlineData("GET", "/api/v1/namespaces/hr/secrets", "fieldSelector=metadata.name%3Ds", "list", "", "secrets", "", "hr", "s")]
    [InlineData("POST", "/api/v1/namespaces/hr/configmaps", "", "create", "", "configmaps", "", "hr", "")]
    [InlineData("DELETE", "/api/v1/namespaces/hr/configmaps", "", "deletecollection", "", "configmaps", "", "hr", "")]
    [InlineData("DELETE", "/api/v1/namespaces/hr/configmaps/c", "", "delete", "", "configmaps", "", "hr", "c")]
    [InlineData("GET", "/api/v1/namespaces", "", "list", "", "namespaces", "", "", "")]
    [InlineData("GET", "/api/v1/namespaces/hr", "", "get", "", "namespaces", "", "hr", "hr")]
    [InlineData("PUT", "/api/v1/namespaces/hr/finalize", "", "update", "", "namespaces", "finalize", "hr", "hr")]
    [InlineData("PATCH", "/apis/greenhouse.resource.io/v1/namespaces/r/greenhouseintegrations/acme/status", "", "patch", "greenhouse.resource.io", "greenhouseintegrations", "status", "r", "acme")]
    [InlineData("PUT", "/apis/apps/v1/namespaces/r/deployments/web/scale", "", "update", "apps", "deployments", "scale", "r", "web")]
    [InlineData("POST", "/api/v1/namespaces/r/serviceaccounts/sa/token", "", "create", "", "serviceaccounts", "token", "r", "sa")]
    [InlineData("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:discovery", "", "get", "rbac.authorization.k8s.io", "clusterroles", "", "", "system:discovery")]
    public void Resource_requests_map_as_on_a_cluster(string method, string path, string query, string verb, string group, string resource, string subresource, string ns, string name)
    {
        var parsed = System.Web.HttpUtility.ParseQueryString(query);

        var a = AuthorizationAttributes.FromRequest(method, path, k => parsed[k]);

        Assert.True(a.IsResourceRequest);
        Assert.Equal((verb, group, resource, subresource, ns, name), (a.Verb, a.ApiGroup, a.Resource, a.Subresource, a.Namespace, a.Name));
    }

    [Theory]
    [InlineData("GET", "/api")]
    [InlineData("GET", "/api/v1")]
    [InlineData("GET", "/apis/apps/v1")]
    [InlineData("GET", "/version")]
    [InlineData("GET", "/openapi/v3/apis/apps/v1")]
    [InlineData("POST", "/healthz")]
    public void Discovery_and_other_paths_are_non_resource_requests_with_the_method_as_verb(string method, string path)
    {
        var a = AuthorizationAttributes.FromRequest(method, path, _ => null);

        Assert.False(a.IsResourceRequest);
        Assert.Equal(method.ToLowerInvariant(), a.Verb);
        Assert.Equal(path, a.Path);
    }
}
