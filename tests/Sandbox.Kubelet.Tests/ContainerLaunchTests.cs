using k8s.Models;

namespace Sandbox.Kubelet.Tests;

public sealed class ContainerLaunchTests
{
    private const string PodIp = "127.0.0.7";

    [Fact]
    public void Mount_paths_are_rewritten_as_whole_segments_longest_first_and_all_interfaces_become_the_pod_ip()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "ns", Uid = "u1" },
            Spec = new V1PodSpec
            {
                Volumes =
                [
                    new V1Volume { Name = "data", EmptyDir = new V1EmptyDirVolumeSource() },
                    new V1Volume { Name = "cache", EmptyDir = new V1EmptyDirVolumeSource() },
                ],
                Containers =
                [
                    new V1Container
                    {
                        Name = "c",
                        Image = "app:1",
                        VolumeMounts =
                        [
                            new V1VolumeMount { Name = "data", MountPath = "/data/" },
                            new V1VolumeMount { Name = "cache", MountPath = "/data/cache", SubPath = "v1" },
                        ],
                        Args = ["--a=/data/x", "--b=/database", "/data", "--c=/data/cache/y", "--urls=http://0.0.0.0:8080", "--d=10.0.0.0", "[::]:81"],
                        Env = [new V1EnvVar { Name = "DIRS", Value = "/data:/data/cache" }, new V1EnvVar { Name = "COPY", Value = "$(DIRS);$$(DIRS)" }],
                    },
                ],
            },
        };
        var volumes = new PodVolumes(pod, "/pods/p", "/claims", TimeProvider.System);
        var options = new LocalKubeletOptions { StateDirectory = "/state", Images = [new ImageCommand("app", "/bin/app", ["--entry"])] };

        var start = ContainerLaunch.Build(pod, pod.Spec.Containers[0], PodIp, volumes, null, ClusterSnapshot.Empty, options, "/pods/p");

        Assert.Equal("/bin/app", start.FileName);
        Assert.Equal(
            ["--entry", "--a=/pods/p/volumes/data/x", "--b=/database", "/pods/p/volumes/data", "--c=/pods/p/volumes/cache/v1/y", $"--urls=http://{PodIp}:8080", "--d=10.0.0.0", $"{PodIp}:81"],
            start.ArgumentList);
        Assert.Equal("/pods/p/volumes/data:/pods/p/volumes/cache/v1", start.Environment["DIRS"]);
        Assert.Equal("/pods/p/volumes/data:/pods/p/volumes/cache/v1;$(DIRS)", start.Environment["COPY"]);
    }

    [Fact]
    public void Containers_get_the_api_servers_service_variables_and_the_service_account_folder_in_place_of_its_mount_path()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "ns", Uid = "u1" },
            Spec = new V1PodSpec
            {
                Containers =
                [
                    new V1Container
                    {
                        Name = "c",
                        Image = "app:1",
                        Args = ["--token=/var/run/secrets/kubernetes.io/serviceaccount/token"],
                        Env = [new V1EnvVar { Name = "KUBERNETES_SERVICE_PORT", Value = "7443" }],
                    },
                ],
            },
        };
        var volumes = new PodVolumes(pod, "/pods/p", "/claims", TimeProvider.System);
        var image = new ImageCommand("app", "/bin/app", [])
        {
            Environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["SA_DIR"] = "/var/run/secrets/kubernetes.io/serviceaccount" },
        };
        var options = new LocalKubeletOptions { StateDirectory = "/state", Images = [image], ApiServer = new Uri("https://127.0.0.1:6443/") };

        var start = ContainerLaunch.Build(pod, pod.Spec.Containers[0], PodIp, volumes, "/pods/p/volumes/kube-api-access", ClusterSnapshot.Empty, options, "/pods/p");

        Assert.Equal(["--token=/pods/p/volumes/kube-api-access/token"], start.ArgumentList);
        Assert.Equal("/pods/p/volumes/kube-api-access", start.Environment["SA_DIR"]);
        Assert.Equal("127.0.0.1", start.Environment["KUBERNETES_SERVICE_HOST"]);
        Assert.Equal("7443", start.Environment["KUBERNETES_SERVICE_PORT"]); // the pod's own env wins
        Assert.Equal("6443", start.Environment["KUBERNETES_SERVICE_PORT_HTTPS"]);
    }

    [Fact]
    public void Without_a_projected_token_the_service_account_path_stays_as_written()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "ns", Uid = "u1" },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "app:1", Args = ["/var/run/secrets/kubernetes.io/serviceaccount/token"] }] },
        };
        var options = new LocalKubeletOptions { StateDirectory = "/state", Images = [new ImageCommand("app", "/bin/app", [])] };

        var start = ContainerLaunch.Build(pod, pod.Spec.Containers[0], PodIp, new PodVolumes(pod, "/pods/p", "/claims", TimeProvider.System), null, ClusterSnapshot.Empty, options, "/pods/p");

        Assert.Equal(["/var/run/secrets/kubernetes.io/serviceaccount/token"], start.ArgumentList);
        Assert.False(start.Environment.ContainsKey("KUBERNETES_SERVICE_HOST"));
    }

    [Fact]
    public void The_images_local_command_is_not_rewritten_even_when_a_mount_path_prefixes_it()
    {
        // A checkout under /tmp (as CI's may be) while the pod mounts an emptyDir at /tmp.
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "ns", Uid = "u1" },
            Spec = new V1PodSpec
            {
                Volumes = [new V1Volume { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource() }],
                Containers =
                [
                    new V1Container
                    {
                        Name = "c",
                        Image = "app:1",
                        VolumeMounts = [new V1VolumeMount { Name = "tmp", MountPath = "/tmp" }],
                        Args = ["--scratch=/tmp/work"],
                    },
                ],
            },
        };
        var volumes = new PodVolumes(pod, "/pods/p", "/claims", TimeProvider.System);
        var options = new LocalKubeletOptions { StateDirectory = "/state", Images = [new ImageCommand("app", "/tmp/checkout/app", ["/tmp/checkout/entry"])] };

        var start = ContainerLaunch.Build(pod, pod.Spec.Containers[0], PodIp, volumes, null, ClusterSnapshot.Empty, options, "/pods/p");

        Assert.Equal("/tmp/checkout/app", start.FileName);
        Assert.Equal(["/tmp/checkout/entry", "--scratch=/pods/p/volumes/tmp/work"], start.ArgumentList);
    }

    [Fact]
    public void A_missing_required_secret_stops_the_start_with_the_kubelets_reason_and_an_optional_one_is_skipped()
    {
        var container = new V1Container
        {
            Name = "c",
            Image = "app:1",
            EnvFrom = [new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = "maybe", Optional = true } }],
            Env = [new V1EnvVar { Name = "KEY", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = "absent", Key = "k" } } }],
        };
        var pod = new V1Pod { Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "ns" }, Spec = new V1PodSpec { Containers = [container] } };

        var error = Assert.Throws<PodSetupException>(() => ContainerLaunch.Environment(pod, container, PodIp, ClusterSnapshot.Empty));

        Assert.Equal("CreateContainerConfigError", error.Reason);
        Assert.Equal("secret \"absent\" not found", error.Message);
    }
}
