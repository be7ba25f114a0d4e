// A minimal Vulkan layer that reports the driver's pipeline statistics (VK_KHR_pipeline_executable_properties:
// on NVIDIA the register count, among others) for every compute pipeline an application creates, here Dawn
// under the benchmark. It enables the extension at vkCreateDevice when the device offers it, adds
// VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR to each vkCreateComputePipelines call and prints one line per
// statistic to stderr: `[vkstats] #SEQ exec NAME: STAT = VALUE`. Pipelines are numbered in creation order.
// Build: cc -O2 -shared -fPIC -o libvkstats.so vkstats_layer.c (headers: libvulkan-dev). Enable with
// VK_LAYER_PATH=<dir of VkLayer_nmkit_stats.json> VK_INSTANCE_LAYERS=VK_LAYER_NMKIT_stats.
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#define EXPORT __attribute__((visibility("default")))
static PFN_vkGetInstanceProcAddr nextGIPA;
static PFN_vkGetDeviceProcAddr nextGDPA;
static PFN_vkCreateComputePipelines nextCreateCP;
static PFN_vkGetPipelineExecutablePropertiesKHR getProps;
static PFN_vkGetPipelineExecutableStatisticsKHR getStats;
static VkInstance lastInstance;
static int enabled;
static int seq;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static VKAPI_ATTR VkResult VKAPI_CALL stats_CreateInstance(const VkInstanceCreateInfo *ci, const VkAllocationCallbacks *a, VkInstance *inst) {
  VkLayerInstanceCreateInfo *li = (VkLayerInstanceCreateInfo *)ci->pNext;
  while (li && !(li->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO && li->function == VK_LAYER_LINK_INFO))
    li = (VkLayerInstanceCreateInfo *)li->pNext;
  if (!li) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr gipa = li->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  li->u.pLayerInfo = li->u.pLayerInfo->pNext;
  PFN_vkCreateInstance create = (PFN_vkCreateInstance)gipa(VK_NULL_HANDLE, "vkCreateInstance");
  VkResult r = create(ci, a, inst);
  if (r == VK_SUCCESS) {
    nextGIPA = gipa;
    lastInstance = *inst;
  }
  return r;
}

static VKAPI_ATTR VkResult VKAPI_CALL stats_CreateDevice(VkPhysicalDevice pd, const VkDeviceCreateInfo *ci, const VkAllocationCallbacks *a, VkDevice *dev) {
  VkLayerDeviceCreateInfo *li = (VkLayerDeviceCreateInfo *)ci->pNext;
  while (li && !(li->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO && li->function == VK_LAYER_LINK_INFO))
    li = (VkLayerDeviceCreateInfo *)li->pNext;
  if (!li) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr gipa = li->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  PFN_vkGetDeviceProcAddr gdpa = li->u.pLayerInfo->pfnNextGetDeviceProcAddr;
  li->u.pLayerInfo = li->u.pLayerInfo->pNext;
  PFN_vkCreateDevice create = (PFN_vkCreateDevice)gipa(lastInstance, "vkCreateDevice");
  PFN_vkEnumerateDeviceExtensionProperties enumExt =
      (PFN_vkEnumerateDeviceExtensionProperties)gipa(lastInstance, "vkEnumerateDeviceExtensionProperties");
  int supported = 0;
  if (enumExt) {
    uint32_t n = 0;
    enumExt(pd, NULL, &n, NULL);
    VkExtensionProperties *props = calloc(n ? n : 1, sizeof *props);
    enumExt(pd, NULL, &n, props);
    for (uint32_t i = 0; i < n; i++)
      if (!strcmp(props[i].extensionName, VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME)) supported = 1;
    free(props);
  }
  VkDeviceCreateInfo copy = *ci;
  VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR feature = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR, (void *)ci->pNext, VK_TRUE};
  const char **names = calloc(ci->enabledExtensionCount + 1, sizeof *names);
  uint32_t count = 0;
  int already = 0;
  for (uint32_t i = 0; i < ci->enabledExtensionCount; i++) {
    names[count++] = ci->ppEnabledExtensionNames[i];
    if (!strcmp(ci->ppEnabledExtensionNames[i], VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME)) already = 1;
  }
  if (supported) {
    if (!already) names[count++] = VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME;
    copy.enabledExtensionCount = count;
    copy.ppEnabledExtensionNames = names;
    copy.pNext = &feature;
  }
  fprintf(stderr, "[vkstats] device: %s is %s\n", VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME, supported ? "enabled" : "not offered");
  VkResult r = create(pd, &copy, a, dev);
  free(names);
  if (r != VK_SUCCESS) return r;
  nextGDPA = gdpa;
  nextCreateCP = (PFN_vkCreateComputePipelines)gdpa(*dev, "vkCreateComputePipelines");
  getProps = supported ? (PFN_vkGetPipelineExecutablePropertiesKHR)gdpa(*dev, "vkGetPipelineExecutablePropertiesKHR") : NULL;
  getStats = supported ? (PFN_vkGetPipelineExecutableStatisticsKHR)gdpa(*dev, "vkGetPipelineExecutableStatisticsKHR") : NULL;
  enabled = supported && getProps && getStats;
  return r;
}

static void report(VkDevice dev, VkPipeline pipe) {
  pthread_mutex_lock(&lock);
  int id = ++seq;
  VkPipelineInfoKHR pi = {VK_STRUCTURE_TYPE_PIPELINE_INFO_KHR, NULL, pipe};
  uint32_t n = 0;
  if (getProps(dev, &pi, &n, NULL) != VK_SUCCESS) n = 0;
  VkPipelineExecutablePropertiesKHR *props = calloc(n ? n : 1, sizeof *props);
  for (uint32_t i = 0; i < n; i++) props[i].sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_PROPERTIES_KHR;
  getProps(dev, &pi, &n, props);
  for (uint32_t e = 0; e < n; e++) {
    VkPipelineExecutableInfoKHR ei = {VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR, NULL, pipe, e};
    uint32_t m = 0;
    getStats(dev, &ei, &m, NULL);
    VkPipelineExecutableStatisticKHR *st = calloc(m ? m : 1, sizeof *st);
    for (uint32_t i = 0; i < m; i++) st[i].sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR;
    getStats(dev, &ei, &m, st);
    for (uint32_t i = 0; i < m; i++) {
      fprintf(stderr, "[vkstats] #%d exec %s: %s = ", id, props[e].name, st[i].name);
      switch (st[i].format) {
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR: fprintf(stderr, "%s\n", st[i].value.b32 ? "true" : "false"); break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR: fprintf(stderr, "%lld\n", (long long)st[i].value.i64); break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR: fprintf(stderr, "%llu\n", (unsigned long long)st[i].value.u64); break;
        default: fprintf(stderr, "%g\n", st[i].value.f64); break;
      }
    }
    free(st);
  }
  free(props);
  pthread_mutex_unlock(&lock);
}

static VKAPI_ATTR VkResult VKAPI_CALL stats_CreateComputePipelines(VkDevice dev, VkPipelineCache cache, uint32_t count,
    const VkComputePipelineCreateInfo *infos, const VkAllocationCallbacks *a, VkPipeline *pipes) {
  if (!enabled) return nextCreateCP(dev, cache, count, infos, a, pipes);
  VkComputePipelineCreateInfo *copy = calloc(count ? count : 1, sizeof *copy);
  for (uint32_t i = 0; i < count; i++) {
    copy[i] = infos[i];
    copy[i].flags |= VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR;
  }
  VkResult r = nextCreateCP(dev, cache, count, copy, a, pipes);
  free(copy);
  if (r == VK_SUCCESS)
    for (uint32_t i = 0; i < count; i++) report(dev, pipes[i]);
  return r;
}

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL stats_GetDeviceProcAddr(VkDevice dev, const char *name);
EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL stats_GetInstanceProcAddr(VkInstance inst, const char *name);

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL stats_GetDeviceProcAddr(VkDevice dev, const char *name) {
  if (!strcmp(name, "vkGetDeviceProcAddr")) return (PFN_vkVoidFunction)stats_GetDeviceProcAddr;
  if (!strcmp(name, "vkCreateComputePipelines")) return (PFN_vkVoidFunction)stats_CreateComputePipelines;
  return nextGDPA ? nextGDPA(dev, name) : NULL;
}

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL stats_GetInstanceProcAddr(VkInstance inst, const char *name) {
  if (!strcmp(name, "vkGetInstanceProcAddr")) return (PFN_vkVoidFunction)stats_GetInstanceProcAddr;
  if (!strcmp(name, "vkCreateInstance")) return (PFN_vkVoidFunction)stats_CreateInstance;
  if (!strcmp(name, "vkCreateDevice")) return (PFN_vkVoidFunction)stats_CreateDevice;
  if (!strcmp(name, "vkGetDeviceProcAddr")) return (PFN_vkVoidFunction)stats_GetDeviceProcAddr;
  if (!strcmp(name, "vkCreateComputePipelines")) return (PFN_vkVoidFunction)stats_CreateComputePipelines;
  return nextGIPA ? nextGIPA(inst, name) : NULL;
}

EXPORT VKAPI_ATTR VkResult VKAPI_CALL vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *v) {
  if (v->loaderLayerInterfaceVersion > 2) v->loaderLayerInterfaceVersion = 2;
  v->pfnGetInstanceProcAddr = stats_GetInstanceProcAddr;
  v->pfnGetDeviceProcAddr = stats_GetDeviceProcAddr;
  v->pfnGetPhysicalDeviceProcAddr = NULL;
  return VK_SUCCESS;
}
